/**
 * The quick profile readers (msgpack-profile.ts, json-profile.ts) accept a left-out file date without decoding it when
 * its bytes start with an ISO 8601 date, `YYYY-MM-DDT`, as validate.ts's date-time rule requires.
 */
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** Whether the 11 bytes at `s` are `YYYY-MM-DDT` (the caller has checked that they are there). */
export function isDatePrefixAt(b: Uint8Array, s: number): boolean {
  return (
    isDigit(b[s]!) &&
    isDigit(b[s + 1]!) &&
    isDigit(b[s + 2]!) &&
    isDigit(b[s + 3]!) &&
    b[s + 4] === 0x2d &&
    isDigit(b[s + 5]!) &&
    isDigit(b[s + 6]!) &&
    b[s + 7] === 0x2d &&
    isDigit(b[s + 8]!) &&
    isDigit(b[s + 9]!) &&
    b[s + 10] === 0x54
  );
}
