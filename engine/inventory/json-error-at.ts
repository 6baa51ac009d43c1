/**
 * Where JSON text first stops being JSON (RFC 8259), for an error a person can act on. V8's JSON.parse gives a
 * character offset for some errors and none for others ("Unexpected token '}', "…" is not valid JSON"); this scan
 * finds the offset for any. Only run once JSON.parse has refused the text, so it is written for clarity: one pass,
 * iterative (a deep document cannot exhaust the call stack), no allocation but the stack of open containers.
 */

const WS = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const DIGIT = (c: number): boolean => c >= 0x30 && c <= 0x39;
const HEX = (c: number): boolean => DIGIT(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/** A failed step: the offset of the character that is wrong (the text's length when it ends too soon), encoded. */
const fail = (at: number): number => -at - 1;

function ws(t: string, i: number): number {
  while (i < t.length && WS(t.charCodeAt(i))) i++;
  return i;
}

/** The string at `i` (a quote there): its end, or fail(where). */
function string(t: string, i: number): number {
  for (let j = i + 1; j < t.length; j++) {
    const c = t.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c < 0x20) return fail(j);
    if (c === 0x5c) {
      const e = t.charCodeAt(j + 1);
      if (j + 1 >= t.length) return fail(t.length);
      if (e === 0x75) {
        for (let k = j + 2; k < j + 6; k++) if (k >= t.length ? true : !HEX(t.charCodeAt(k))) return fail(Math.min(k, t.length));
        j += 5;
      } else if ('"\\/bfnrt'.includes(t[j + 1]!)) j++;
      else return fail(j + 1);
    }
  }
  return fail(t.length);
}

/** The number at `i`: its end, or fail(where). */
function number(t: string, i: number): number {
  let j = i;
  if (t.charCodeAt(j) === 0x2d) j++;
  if (t.charCodeAt(j) === 0x30) j++;
  else if (DIGIT(t.charCodeAt(j))) while (DIGIT(t.charCodeAt(j))) j++;
  else return fail(j);
  if (t.charCodeAt(j) === 0x2e) {
    j++;
    if (!DIGIT(t.charCodeAt(j))) return fail(j);
    while (DIGIT(t.charCodeAt(j))) j++;
  }
  if (t.charCodeAt(j) === 0x65 || t.charCodeAt(j) === 0x45) {
    j++;
    if (t.charCodeAt(j) === 0x2b || t.charCodeAt(j) === 0x2d) j++;
    if (!DIGIT(t.charCodeAt(j))) return fail(j);
    while (DIGIT(t.charCodeAt(j))) j++;
  }
  return j;
}

/** The offset where `t` first stops being one JSON value with optional whitespace around it, or -1 when it is one. */
export function jsonSyntaxErrorAt(t: string): number {
  const n = t.length;
  const open: boolean[] = []; // true: an object, false: an array
  let i = ws(t, 0);
  for (;;) {
    // A value starts at i.
    if (i >= n) return n;
    const c = t.charCodeAt(i);
    let end: number;
    if (c === 0x7b || c === 0x5b) {
      const object = c === 0x7b;
      i = ws(t, i + 1);
      if (t.charCodeAt(i) === (object ? 0x7d : 0x5d)) end = i + 1;
      else {
        open.push(object);
        if (object) {
          const k = member(t, i);
          if (k < 0) return -k - 1;
          i = k;
        }
        continue;
      }
    } else if (c === 0x22) end = string(t, i);
    else if (c === 0x2d || DIGIT(c)) end = number(t, i);
    else {
      // true, false or null, refused at its first wrong character (as V8 counts).
      const word = c === 0x74 ? 'true' : c === 0x66 ? 'false' : c === 0x6e ? 'null' : '';
      if (word === '') return i;
      for (let k = 1; k < word.length; k++) if (t.charCodeAt(i + k) !== word.charCodeAt(k)) return Math.min(i + k, n);
      end = i + word.length;
    }
    if (end < 0) return -end - 1;
    // After a value: a comma, the close of its container, or (outside any) the end.
    i = ws(t, end);
    for (;;) {
      if (open.length === 0) return i === n ? -1 : i;
      if (i >= n) return n;
      const object = open[open.length - 1]!;
      const d = t.charCodeAt(i);
      if (d === 0x2c) {
        i = ws(t, i + 1);
        if (object) {
          const k = member(t, i);
          if (k < 0) return -k - 1;
          i = k;
        }
        break;
      }
      if (d !== (object ? 0x7d : 0x5d)) return i;
      open.pop();
      i = ws(t, i + 1);
    }
  }
}

/** A member's name and colon at `i`: where its value starts, or fail(where). */
function member(t: string, i: number): number {
  if (t.charCodeAt(i) !== 0x22) return fail(Math.min(i, t.length));
  const e = string(t, i);
  if (e < 0) return e;
  const colon = ws(t, e);
  if (t.charCodeAt(colon) !== 0x3a) return fail(Math.min(colon, t.length));
  return ws(t, colon + 1);
}
