/**
 * Splits a stream of concatenated msgpack documents into one byte range per document without decoding them: the
 * workers decode (and validate) each inventory, so the reading thread only walks type headers. Iterative (no
 * recursion a hostile document could exhaust) and bounded (a document larger than the limit is cut off).
 */
import type { Readable } from 'node:stream';

/**
 * Called with the payload range `[from, to)` of each string (map keys included) a walk passes, `to` capped at the end
 * of the buffer; returning false stops the walk (msgpackValueEnd then returns STOPPED).
 */
export type MsgpackStringVisitor = (from: number, to: number) => boolean;

/** msgpackValueEnd's answer when its string visitor stopped the walk. */
export const STOPPED = -3;

/**
 * End offset of the msgpack value starting at `start`; -1 when `buf` ends first; -2 when the bytes are not msgpack;
 * STOPPED when `onString` or `onExt` (called with the offset of each extension value's header) stopped the walk. Walks headers only, iteratively, without allocating: `remaining` counts
 * values still to skip. The one msgpack header walker: frame splitting, the fast profile reader and the strict UTF-8
 * check (`onString`) share it.
 */
export function msgpackValueEnd(buf: Uint8Array, start: number, onString?: MsgpackStringVisitor, onExt?: (at: number) => boolean): number {
  let pos = start;
  let remaining = 1;
  const n = buf.length;
  while (remaining > 0) {
    if (pos >= n) return -1;
    const b = buf[pos]!;
    remaining--;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3)
      pos += 1; // fixint, nil, booleans
    else if (b <= 0x8f)
      ((remaining += (b & 0x0f) * 2), (pos += 1)); // fixmap
    else if (b <= 0x9f)
      ((remaining += b & 0x0f), (pos += 1)); // fixarray
    else if (b <= 0xbf) {
      // fixstr
      if (onString !== undefined && !onString(pos + 1, Math.min(n, pos + 1 + (b & 0x1f)))) return STOPPED;
      pos += 1 + (b & 0x1f);
    } else {
      // Sized types: a length field of 1, 2 or 4 bytes, then a payload (or children).
      let lenBytes = 0,
        fixed = 0,
        children = 0;
      switch (b) {
        case 0xc4:
        case 0xd9:
          lenBytes = 1;
          fixed = 1;
          break; // bin8, str8
        case 0xc5:
        case 0xda:
          lenBytes = 2;
          fixed = 1;
          break;
        case 0xc6:
        case 0xdb:
          lenBytes = 4;
          fixed = 1;
          break;
        case 0xc7:
          if (onExt !== undefined && !onExt(pos)) return STOPPED;
          lenBytes = 1;
          fixed = 2;
          break; // ext8: length, then a type byte
        case 0xc8:
          if (onExt !== undefined && !onExt(pos)) return STOPPED;
          lenBytes = 2;
          fixed = 2;
          break;
        case 0xc9:
          if (onExt !== undefined && !onExt(pos)) return STOPPED;
          lenBytes = 4;
          fixed = 2;
          break;
        case 0xca:
          pos += 5;
          continue; // float32
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
          if (onExt !== undefined && !onExt(pos)) return STOPPED;
          pos += 3;
          continue; // fixext 1..16
        case 0xd5:
          if (onExt !== undefined && !onExt(pos)) return STOPPED;
          pos += 4;
          continue;
        case 0xd6:
          if (onExt !== undefined && !onExt(pos)) return STOPPED;
          pos += 6;
          continue;
        case 0xd7:
          if (onExt !== undefined && !onExt(pos)) return STOPPED;
          pos += 10;
          continue;
        case 0xd8:
          if (onExt !== undefined && !onExt(pos)) return STOPPED;
          pos += 18;
          continue;
        case 0xdc:
          lenBytes = 2;
          children = 1;
          break; // array16
        case 0xdd:
          lenBytes = 4;
          children = 1;
          break;
        case 0xde:
          lenBytes = 2;
          children = 2;
          break; // map16
        case 0xdf:
          lenBytes = 4;
          children = 2;
          break;
        default:
          return -2; // 0xc1 is never used
      }
      if (pos + 1 + lenBytes > n) return -1;
      let len = 0;
      for (let i = 1; i <= lenBytes; i++) len = len * 256 + buf[pos + i]!;
      if (children > 0) {
        remaining += len * children;
        pos += 1 + lenBytes;
      } else {
        const from = pos + fixed + lenBytes;
        if (onString !== undefined && b >= 0xd9 && b <= 0xdb && !onString(from, Math.min(n, from + len))) return STOPPED; // str8/16/32
        pos = from + len;
      }
    }
  }
  return pos > n ? -1 : pos;
}

export interface Frame {
  readonly bytes: Uint8Array;
  /** 1-based position of the document in the stream. */
  readonly n: number;
  /** Set when the stream cannot be split further (not msgpack, cut off, or a document over the limit). */
  readonly broken?: string;
}

/**
 * Yields each document of a msgpack stream as its own bytes. A stream that stops making sense ends with one
 * `broken` frame describing why (its bytes are the unparsed rest, capped at `maxBytes`).
 */
export async function* msgpackFrames(stream: Readable, maxBytes: number): AsyncGenerator<Frame> {
  // Unparsed bytes, kept as chunks: a document spanning many chunks is joined only when enough has arrived to be
  // worth another try (doubling), so a large document costs linear time, not quadratic.
  let chunks: Buffer[] = [];
  let pending = 0;
  let retryAt = 0;
  let n = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    pending += chunk.length;
    if (pending < retryAt) continue;
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, pending);
    let pos = 0;
    for (;;) {
      const end = msgpackValueEnd(buf, pos);
      if (end === -2) {
        yield {
          bytes: buf.subarray(pos, Math.min(buf.length, pos + maxBytes)),
          n: ++n,
          // -2 is a 0xc1 (the one byte msgpack never uses) where a value should start: this document's first byte, or
          // one inside it (then its first byte is a fine header, and naming it would point at the wrong place).
          broken:
            buf[pos] === 0xc1
              ? 'byte 0xc1 does not start a msgpack value; the rest of the stream cannot be split'
              : 'a 0xc1 byte (never used by msgpack) where a value should start inside this document; the rest of the ' +
                'stream cannot be split',
        };
        return;
      }
      if (end === -1) break;
      yield { bytes: buf.subarray(pos, end), n: ++n };
      pos = end;
    }
    const rest = buf.subarray(pos);
    chunks = rest.length ? [rest] : [];
    pending = rest.length;
    retryAt = rest.length * 2;
    if (pending > maxBytes) {
      yield {
        bytes: rest.subarray(0, maxBytes + 1),
        n: ++n,
        broken: `a document is larger than ${maxBytes} bytes; the rest of the stream is not read`,
      };
      return;
    }
  }
  if (pending === 0) return;
  const buf = Buffer.concat(chunks, pending);
  let pos = 0;
  for (;;) {
    const end = msgpackValueEnd(buf, pos);
    if (end < 0) break;
    yield { bytes: buf.subarray(pos, end), n: ++n };
    pos = end;
    if (pos === buf.length) return;
  }
  yield { bytes: buf.subarray(pos, Math.min(buf.length, pos + maxBytes + 1)), n: ++n, broken: 'the stream ends inside a document' };
}
