/**
 * Strict UTF-8 checks for inventories. Node's decoders (and msgpackr's) turn ill-formed bytes into U+FFFD, or
 * worse, into other characters, silently: an inventory would be stored and scanned with names and paths nobody
 * sent. These find the first byte that does not start a well-formed sequence (Unicode table 3-7: no overlong
 * forms, no surrogates, nothing past U+10FFFF, nothing cut short), so the caller can refuse it naming the offset.
 */
import { isUtf8 } from 'node:buffer';
import { msgpackValueEnd } from './msgpack-frames.js';

/** Below this many bytes a string is checked in JavaScript; longer ones ask the native validator first. */
const NATIVE_FROM = 64;

/** Where in `b[from, to)` the first ill-formed UTF-8 sequence starts, or -1 when the range is all UTF-8. */
export function invalidUtf8At(b: Uint8Array, from = 0, to = b.length): number {
  if (to - from >= NATIVE_FROM) {
    if (isUtf8(from === 0 && to === b.length ? b : b.subarray(from, to))) return -1;
  } else {
    let a = from;
    while (a < to && b[a]! < 0x80) a++; // a short ASCII string (the common case): no call, no view
    if (a === to) return -1;
  }
  let i = from;
  while (i < to) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number,
      lo = 0x80,
      hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + n >= to || b[i + 1]! < lo || b[i + 1]! > hi) return i;
    for (let k = 2; k <= n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * One walk over a msgpack document for what decoding would hide: the offset of the first ill-formed UTF-8 in a string
 * (`badUtf8`), of the first extension value (`ext`: fixext, ext 8/16/32), and where the walk ended (`end`:
 * msgpackValueEnd's answer — the document's length when it is one whole value; -2 at a byte msgpack never uses, which
 * msgpackr would still decode, as an object). Each offset is -1 when there is none before the walk stopped — one
 * finding is enough to refuse the document. An inventory has no extension values: msgpackr decodes extension 0x72 as a
 * record definition even with records off, and -1 as a date, so a document carrying one decodes into something its
 * bytes do not show. One is let through: fixext 1 of type 0 and data 0, how msgpackr writes `undefined` (a member an
 * Inventory object leaves undefined, as JSON.stringify would leave it out).
 */
export function msgpackUtf8AndExt(b: Uint8Array): { readonly badUtf8: number; readonly ext: number; readonly end: number } {
  let badUtf8 = -1,
    ext = -1;
  const end = msgpackValueEnd(
    b,
    0,
    (from, to) => (badUtf8 = invalidUtf8At(b, from, to)) < 0,
    (pos) => {
      if (b[pos] === 0xd4 && b[pos + 1] === 0 && b[pos + 2] === 0) return true; // msgpackr's undefined
      ext = pos;
      return false;
    },
  );
  return { badUtf8, ext, end };
}
