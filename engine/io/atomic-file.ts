/**
 * Atomic file replacement: write a temporary file in the same directory, fsync it, rename it over the target,
 * fsync the directory. A reader (or a machine restarted after a power cut) sees the old file or the new one,
 * never half of either.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ioError } from '../errors.js';

export function writeFileAtomic(path: string, bytes: Uint8Array | string, what = 'write'): void {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    syncDirectory(dirname(path));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw ioError(what, path, e);
  }
}

/** Makes a rename in `dir` durable (on platforms that can open a directory). */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open directories; its renames are durable once the file is flushed.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
