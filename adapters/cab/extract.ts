/**
 * Extracts a cabinet into a directory, all or nothing: entries are written into a staging directory inside the
 * target and moved into place only once every entry decoded; on any error the staging directory is removed, so
 * no partial file is ever left looking complete.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ioError } from '../../engine/errors.js';
import { CabReader, type CabLimits } from './reader.js';
import { resolveInside } from './safe-path.js';

export interface ExtractOptions {
  readonly limits?: Partial<CabLimits>;
  /** Extract only entries for which this returns true (default: all). */
  readonly filter?: (name: string) => boolean;
  /** Called after each entry with bytes written so far. */
  readonly onProgress?: (entry: string, bytesDone: number) => void;
  /** Called after each decoded chunk (about 32 KiB) with bytes written so far: for progress that moves smoothly. */
  readonly onChunk?: (entry: string, bytesDone: number) => void;
}

export interface ExtractedFile {
  readonly name: string;
  readonly path: string;
  readonly size: number;
}

export function extractCab(cabPath: string, targetDir: string, options: ExtractOptions = {}): ExtractedFile[] {
  try {
    mkdirSync(targetDir, { recursive: true });
  } catch (e) {
    throw ioError('create directory', targetDir, e);
  }
  const readers = CabReader.openAll(cabPath, options.limits);
  let staging: string;
  try {
    staging = mkdtempSync(join(targetDir, '.patchscan-extract-'));
  } catch (e) {
    for (const r of readers) r.close();
    throw ioError('create a staging directory in', targetDir, e);
  }
  // Keyed by final path: a name stored twice is extracted once, the later copy winning (as cabextract does).
  const done = new Map<string, ExtractedFile>();
  let bytes = 0;
  try {
    for (const reader of readers) {
      for (const file of reader.files()) {
        if (options.filter && !options.filter(file.name)) continue;
        // Validate against both roots: the name must be safe wherever it finally lands.
        const finalPath = resolveInside(targetDir, file.name, cabPath);
        const stagedPath = resolveInside(staging, file.name, cabPath);
        mkdirSync(dirname(stagedPath), { recursive: true });
        const fd = openSync(stagedPath, 'w');
        try {
          for (const chunk of file.chunks()) {
            writeSync(fd, chunk);
            bytes += chunk.length;
            options.onChunk?.(file.name, bytes);
          }
        } finally {
          closeSync(fd);
        }
        done.set(finalPath, { name: file.name, path: finalPath, size: file.size });
        options.onProgress?.(file.name, bytes);
      }
    }
    for (const f of done.values()) {
      const staged = join(staging, relative(targetDir, f.path));
      mkdirSync(dirname(f.path), { recursive: true });
      renameSync(staged, f.path);
    }
    return [...done.values()];
  } catch (e) {
    if (e instanceof Error && 'code' in e && typeof (e as NodeJS.ErrnoException).syscall === 'string') {
      throw ioError('write into', targetDir, e);
    }
    throw e;
  } finally {
    for (const r of readers) r.close();
    rmSync(staging, { recursive: true, force: true });
  }
}
