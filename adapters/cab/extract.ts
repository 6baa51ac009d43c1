/**
 * Extracts a cabinet into a directory, all or nothing: entries are written into a staging directory inside the
 * target and moved into place only once every entry decoded and every destination was checked; on any error the
 * staging directory is removed, so no partial file is ever left looking complete and nothing already there is
 * replaced. A destination is refused when reaching it would go through a symbolic link already in the target (the
 * link could point anywhere: names are checked as text, the file system would follow it), when it is a folder or a
 * link there, or when the cabinet itself names it both as a file and as a folder of another entry.
 */
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ioError, PatchscanError } from '../../engine/errors.js';
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
  const folders = new Set<string>(); // every folder the entries so far need, by final path
  let bytes = 0;
  try {
    for (const reader of readers) {
      for (const file of reader.files()) {
        if (options.filter && !options.filter(file.name)) continue;
        // Validate against both roots: the name must be safe wherever it finally lands.
        const finalPath = resolveInside(targetDir, file.name, cabPath);
        const stagedPath = resolveInside(staging, file.name, cabPath);
        claim(targetDir, finalPath, file.name, cabPath, done, folders);
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
    // Every destination is checked before the first one is written: a refusal leaves the target as it was.
    for (const f of done.values()) checkDestination(targetDir, f.path, f.name, cabPath);
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

const unsafe = (cabinet: string, name: string, why: string): PatchscanError =>
  new PatchscanError('CAB_UNSAFE_PATH', `${cabinet}: entry ${JSON.stringify(name)} ${why}; nothing was extracted`, {
    file: cabinet,
    entry: name,
  });

/** The folders between `root` (excluded) and `path` (excluded), outermost first. */
function foldersBetween(root: string, path: string): string[] {
  const base = resolve(root);
  const out: string[] = [];
  for (let d = dirname(path); d.startsWith(base + sep); d = dirname(d)) out.unshift(d);
  return out;
}

/**
 * Records entry `name` (at `finalPath`) among those extracted, refusing one the cabinet also needs as a folder of
 * another entry, or one below a name it holds as a file: both cannot land (and each order failed differently).
 */
function claim(
  root: string,
  finalPath: string,
  name: string,
  cabinet: string,
  done: ReadonlyMap<string, ExtractedFile>,
  folders: Set<string>,
): void {
  if (folders.has(finalPath)) throw unsafe(cabinet, name, 'is also the folder of another entry');
  for (const d of foldersBetween(root, finalPath)) {
    if (done.has(d)) throw unsafe(cabinet, name, `lies below ${JSON.stringify(done.get(d)!.name)}, which the cabinet holds as a file`);
    folders.add(d);
  }
}

/** Refuses a destination reached through a symbolic link, or one that is a folder or a link now. */
function checkDestination(root: string, path: string, name: string, cabinet: string): void {
  const kind = (p: string): 'none' | 'link' | 'folder' | 'file' | 'other' => {
    try {
      const st = lstatSync(p);
      return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'folder' : st.isFile() ? 'file' : 'other';
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
      throw e;
    }
  };
  for (const d of foldersBetween(root, path)) {
    const k = kind(d);
    if (k === 'none') break; // nothing below it exists yet either
    if (k === 'link') throw unsafe(cabinet, name, `would be written through the symbolic link ${d}`);
    if (k !== 'folder') throw unsafe(cabinet, name, `needs ${d} to be a folder, and it is not one`);
  }
  const k = kind(path);
  if (k === 'link') throw unsafe(cabinet, name, `would replace the symbolic link ${path}`);
  if (k === 'folder') throw unsafe(cabinet, name, `would replace the folder ${path}`);
  if (k === 'other') throw unsafe(cabinet, name, `would replace ${path}, which is not a regular file`);
}
