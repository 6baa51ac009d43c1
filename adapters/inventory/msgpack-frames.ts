/**
 * Splits a stream of concatenated msgpack documents into one byte range per document without decoding them: the
 * workers decode (and validate) each inventory, so the reading thread only walks type headers. Iterative (no
 * recursion a hostile document could exhaust) and bounded (a document larger than the limit is cut off).
 */
import type { Readable } from 'node:stream';

/** msgpack header sizes by first byte: [bytes before the payload, payload length field size, children per item]. */
function headerOf(b: number): { fixed: number; lenBytes: number; children: number; inline?: number } | undefined {
  if (b <= 0x7f || b >= 0xe0) return { fixed: 1, lenBytes: 0, children: 0 };
  if (b <= 0x8f) return { fixed: 1, lenBytes: 0, children: 0, inline: (b & 0x0f) * 2 };
  if (b <= 0x9f) return { fixed: 1, lenBytes: 0, children: 0, inline: b & 0x0f };
  if (b <= 0xbf) return { fixed: 1 + (b & 0x1f), lenBytes: 0, children: 0 };
  switch (b) {
    case 0xc0: case 0xc2: case 0xc3: return { fixed: 1, lenBytes: 0, children: 0 };
    case 0xc4: case 0xd9: return { fixed: 1, lenBytes: 1, children: 0 };
    case 0xc5: case 0xda: return { fixed: 1, lenBytes: 2, children: 0 };
    case 0xc6: case 0xdb: return { fixed: 1, lenBytes: 4, children: 0 };
    case 0xc7: return { fixed: 2, lenBytes: 1, children: 0 }; // ext8: length, type
    case 0xc8: return { fixed: 2, lenBytes: 2, children: 0 };
    case 0xc9: return { fixed: 2, lenBytes: 4, children: 0 };
    case 0xca: return { fixed: 5, lenBytes: 0, children: 0 };
    case 0xcb: return { fixed: 9, lenBytes: 0, children: 0 };
    case 0xcc: case 0xd0: return { fixed: 2, lenBytes: 0, children: 0 };
    case 0xcd: case 0xd1: return { fixed: 3, lenBytes: 0, children: 0 };
    case 0xce: case 0xd2: return { fixed: 5, lenBytes: 0, children: 0 };
    case 0xcf: case 0xd3: return { fixed: 9, lenBytes: 0, children: 0 };
    case 0xd4: return { fixed: 3, lenBytes: 0, children: 0 };
    case 0xd5: return { fixed: 4, lenBytes: 0, children: 0 };
    case 0xd6: return { fixed: 6, lenBytes: 0, children: 0 };
    case 0xd7: return { fixed: 10, lenBytes: 0, children: 0 };
    case 0xd8: return { fixed: 18, lenBytes: 0, children: 0 };
    case 0xdc: return { fixed: 1, lenBytes: 2, children: 1 };
    case 0xdd: return { fixed: 1, lenBytes: 4, children: 1 };
    case 0xde: return { fixed: 1, lenBytes: 2, children: 2 };
    case 0xdf: return { fixed: 1, lenBytes: 4, children: 2 };
    default: return undefined; // 0xc1 is never used
  }
}

/**
 * End offset of the msgpack value starting at `start`; -1 when `buf` ends first; -2 when the bytes are not msgpack.
 */
export function msgpackValueEnd(buf: Uint8Array, start: number): number {
  let pos = start;
  let remaining = 1;
  while (remaining > 0) {
    if (pos >= buf.length) return -1;
    const b = buf[pos]!;
    const h = headerOf(b);
    if (!h) return -2;
    remaining--;
    if (h.inline !== undefined) {
      remaining += h.inline;
      pos += 1;
      continue;
    }
    let len = 0;
    if (h.lenBytes > 0) {
      if (pos + 1 + h.lenBytes > buf.length) return -1;
      for (let i = 0; i < h.lenBytes; i++) len = len * 256 + buf[pos + 1 + i]!;
    }
    if (h.children > 0) {
      remaining += len * h.children;
      pos += 1 + h.lenBytes;
    } else {
      // ext types carry their type byte after the length: fixed counts it.
      pos += h.fixed + h.lenBytes + len;
    }
  }
  return pos > buf.length ? -1 : pos;
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
        yield { bytes: buf.subarray(pos, Math.min(buf.length, pos + maxBytes)), n: ++n, broken: `byte 0x${buf[pos]!.toString(16).padStart(2, '0')} does not start a msgpack value; the rest of the stream cannot be split` };
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
      yield { bytes: rest.subarray(0, maxBytes + 1), n: ++n, broken: `a document is larger than ${maxBytes} bytes; the rest of the stream is not read` };
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
