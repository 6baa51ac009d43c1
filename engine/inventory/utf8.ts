/**
 * Strict UTF-8 checks for inventories. Node's decoders (and msgpackr's) turn ill-formed bytes into U+FFFD, or
 * worse, into other characters, silently: an inventory would be stored and scanned with names and paths nobody
 * sent. These find the first byte that does not start a well-formed sequence (Unicode table 3-7: no overlong
 * forms, no surrogates, nothing past U+10FFFF, nothing cut short), so the caller can refuse it naming the offset.
 */
import { isUtf8 } from 'node:buffer';

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
 * Where the first ill-formed UTF-8 byte of any string (keys included) of the msgpack document in `b` is, or -1.
 * Walks type headers iteratively (no recursion a hostile document could exhaust), without allocating; stops at
 * the end of the first value. Bytes that are not msgpack end the walk (-1): the decoder reports those.
 */
export function msgpackInvalidUtf8At(b: Uint8Array): number {
  let pos = 0;
  let remaining = 1;
  const n = b.length;
  while (remaining > 0 && pos < n) {
    const t = b[pos]!;
    remaining--;
    let strLen = -1,
      header = 0;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) pos += 1;
    else if (t <= 0x8f) ((remaining += (t & 0x0f) * 2), (pos += 1));
    else if (t <= 0x9f) ((remaining += t & 0x0f), (pos += 1));
    else if (t <= 0xbf) ((strLen = t & 0x1f), (header = 1));
    else {
      let lenBytes = 0,
        fixed = 0,
        children = 0;
      switch (t) {
        case 0xd9:
          strLen = b[pos + 1] ?? 0;
          header = 2;
          break;
        case 0xda:
          strLen = ((b[pos + 1] ?? 0) << 8) | (b[pos + 2] ?? 0);
          header = 3;
          break;
        case 0xdb:
          strLen = (b[pos + 1] ?? 0) * 0x1000000 + (((b[pos + 2] ?? 0) << 16) | ((b[pos + 3] ?? 0) << 8) | (b[pos + 4] ?? 0));
          header = 5;
          break;
        case 0xc4:
          lenBytes = 1;
          fixed = 1;
          break; // bin
        case 0xc5:
          lenBytes = 2;
          fixed = 1;
          break;
        case 0xc6:
          lenBytes = 4;
          fixed = 1;
          break;
        case 0xc7:
          lenBytes = 1;
          fixed = 2;
          break; // ext: length, then a type byte
        case 0xc8:
          lenBytes = 2;
          fixed = 2;
          break;
        case 0xc9:
          lenBytes = 4;
          fixed = 2;
          break;
        case 0xca:
          pos += 5;
          continue;
        case 0xcb:
          pos += 9;
          continue;
        case 0xcc:
        case 0xd0:
          pos += 2;
          continue;
        case 0xcd:
        case 0xd1:
          pos += 3;
          continue;
        case 0xce:
        case 0xd2:
          pos += 5;
          continue;
        case 0xcf:
        case 0xd3:
          pos += 9;
          continue;
        case 0xd4:
          pos += 3;
          continue;
        case 0xd5:
          pos += 4;
          continue;
        case 0xd6:
          pos += 6;
          continue;
        case 0xd7:
          pos += 10;
          continue;
        case 0xd8:
          pos += 18;
          continue;
        case 0xdc:
          lenBytes = 2;
          children = 1;
          break;
        case 0xdd:
          lenBytes = 4;
          children = 1;
          break;
        case 0xde:
          lenBytes = 2;
          children = 2;
          break;
        case 0xdf:
          lenBytes = 4;
          children = 2;
          break;
        default:
          return -1; // 0xc1: not msgpack
      }
      if (strLen < 0) {
        let len = 0;
        for (let i = 1; i <= lenBytes; i++) len = len * 256 + (b[pos + i] ?? 0);
        if (children > 0) {
          remaining += len * children;
          pos += 1 + lenBytes;
        } else pos += fixed + lenBytes + len;
        continue;
      }
    }
    if (strLen >= 0) {
      const start = pos + header;
      const end = Math.min(n, start + strLen);
      const bad = invalidUtf8At(b, start, end);
      if (bad >= 0) return bad;
      pos = start + strLen;
    }
  }
  return -1;
}
