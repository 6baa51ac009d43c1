/** UTF-8 samples shared by the tests that refuse ill-formed text (test/hostile/invalid-utf8, server-hardening). */

/** Ill-formed sequences: what it is, the bytes, and how far into them the first bad byte is. */
export const ILL_FORMED_UTF8: readonly (readonly [string, number[], number])[] = [
  ['a byte that is never UTF-8 (FF)', [0xff], 0],
  ['a continuation byte alone (80)', [0x41, 0x80], 1],
  ['an overlong "/" (C0 AF)', [0xc0, 0xaf], 0],
  ['an overlong 3-byte form (E0 80 AF)', [0xe0, 0x80, 0xaf], 0],
  ['a UTF-16 surrogate (ED A0 80)', [0xed, 0xa0, 0x80], 0],
  ['past U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80], 0],
  ['a sequence cut short (E2 82 then "-")', [0x41, 0x42, 0xe2, 0x82], 2],
  ['Latin-1 "é" (E9)', [0x50, 0xe9], 1],
];

/**
 * Pieces to build byte strings from: mostly UTF-8 (a, é, €, 𝔘, ＰＣ) with stray, overlong, surrogate, out-of-range and
 * cut-short bytes — random bytes alone are almost never valid past the first.
 */
export const UTF8_PIECES: readonly (readonly number[])[] = [
  ...['a', 'é', '€', '𝔘', 'ＰＣ'].map((t) => [...Buffer.from(t)]),
  [0x80],
  [0xbf],
  [0xc0],
  [0xc1],
  [0xe0, 0x80],
  [0xed, 0xa0],
  [0xf4, 0x90],
  [0xf5],
  [0xff],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
];

const strict = new TextDecoder('utf-8', { fatal: true });
/** Whether `b` is well-formed UTF-8, by the platform's strict decoder. */
export function isUtf8(b: Uint8Array): boolean {
  try {
    strict.decode(b);
    return true;
  } catch {
    return false;
  }
}
