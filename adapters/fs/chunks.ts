/** Reads a file in fixed-size chunks with synchronous positional reads (bounded memory, any file size). */
import { closeSync, openSync, readSync } from 'node:fs';
import { ioError } from '../../engine/errors.js';

/** Yields views of one reused buffer: consume each chunk before asking for the next. */
export function* readChunks(path: string, chunkSize = 1 << 20): Generator<Uint8Array> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw ioError('read', path, e);
  }
  try {
    const buf = Buffer.allocUnsafe(chunkSize);
    for (let pos = 0; ;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return;
      yield buf.subarray(0, n);
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}
