/**
 * Catalog distribution (ITMU's "send to all distribution points"): where a site's processes run on several
 * machines (a PostgreSQL site), the compiled catalog in service is kept in the database too, in 1 MiB chunks, and
 * each `serve` or `worker` that does not find it at its recorded path fetches it by catalog id, checks its SHA-256
 * against the one recorded at sync, and caches it in its own site directory (catalogs/<sha256>.pscat). A process
 * loads a new catalog version only between batches (ScanService.current()). A worker can fetch the same bytes
 * from a site server instead (`worker --catalog-from`, catalog-download.ts): both are a {@link CatalogSource}.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PatchscanError } from '../../engine/errors.js';
import { writeFileAtomic } from '../../engine/io/atomic-file.js';
import type { CatalogRow, SiteStore } from '../store/port.js';

export const CHUNK_BYTES = 1 << 20;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Where a process gets a catalog version's compiled file from. */
export interface CatalogSource {
  /** A local path of `row`'s compiled catalog, fetched, verified and cached first when this machine lacks it. */
  file(row: CatalogRow): Promise<string>;
  /**
   * Removes cached copies beyond the ones to keep, `inUse` (a path `file` returned, loaded) never; absent where
   * nothing is pruned (a scan worker prunes its cache; reports keep what they fetched).
   */
  prune?(inUse: string): Promise<void>;
}

export interface CacheRetention {
  /** Cached copies kept: the one in use and the `keep - 1` used most recently before it (at least 1). */
  readonly keep: number;
  readonly log?: (line: string) => void;
}

/**
 * The site's file at its recorded path, else the copy in the site database (verified, cached in `cacheDir`); with
 * `retention`, older cached copies are pruned after each catalog load.
 */
export const storeCatalogSource = (store: SiteStore, cacheDir: string, retention?: CacheRetention): CatalogSource => ({
  file: (row) => localCatalogFile(store, row, cacheDir),
  ...(retention && { prune: async (inUse: string) => void (await pruneCatalogCache(store, cacheDir, inUse, retention)) }),
});

/** A verified copy's name: the SHA-256 of its bytes. (Sync names the site's own files after the cabinet's SHA-256.) */
const CACHED_COPY = /^([0-9a-f]{64})\.pscat$/;

/** Marks a cached copy as used now: pruning keeps the ones used last. */
export function touchCachedCopy(path: string): void {
  const t = new Date();
  try {
    utimesSync(path, t, t);
  } catch {
    // read-only cache: pruning then goes by when the copy was written
  }
}

/**
 * Deletes the cached catalog copies in `cacheDir` other than `inUse` and the `keep - 1` used most recently (by
 * modification time, which each use touches), and returns their names. Never a file the site recorded as a
 * catalog's own (named after a cabinet's SHA-256: the sync's, when the cache is the site's catalogs folder), never
 * anything not named like a copy. Another process using the same cache and an older version holds that catalog in
 * memory already (a catalog is read whole when loaded) and loads only the version in service next.
 */
export async function pruneCatalogCache(store: SiteStore, cacheDir: string, inUse: string, o: CacheRetention): Promise<string[]> {
  const log = o.log ?? ((line: string) => process.stderr.write(`patchscan: ${line}\n`));
  const keep = Math.max(1, o.keep);
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return []; // no cache yet: the catalog in use is the site's own file
  }
  const using = resolve(inUse);
  const copies: { name: string; path: string; mtime: number }[] = [];
  for (const name of names) {
    if (!CACHED_COPY.test(name)) continue;
    const path = join(cacheDir, name);
    if (resolve(path) === using) continue;
    try {
      copies.push({ name, path, mtime: statSync(path).mtimeMs });
    } catch {
      // removed meanwhile
    }
  }
  copies.sort((a, b) => b.mtime - a.mtime);
  const removed: string[] = [];
  for (const c of copies.slice(keep - 1)) {
    if (await store.catalogBySha(CACHED_COPY.exec(c.name)![1]!)) continue;
    try {
      rmSync(c.path, { force: true });
      removed.push(c.name);
    } catch (e) {
      log(`cannot remove the old cached catalog ${c.path}: ${(e as Error).message}`);
    }
  }
  if (removed.length > 0)
    log(`removed ${removed.length} old cached catalog(s) from ${cacheDir} (kept ${keep}, the one in use included): ${removed.join(', ')}`);
  return removed;
}

/** Stores the compiled catalog's bytes with catalog `catalogId` (call in the transaction that records it). */
export async function publishCatalogFile(store: SiteStore, catalogId: number, file: string): Promise<string> {
  const bytes = readFileSync(file);
  const digest = sha256(bytes);
  await store.putCatalogFile(
    catalogId,
    digest,
    (function* chunks() {
      for (let at = 0; at < bytes.length; at += CHUNK_BYTES) yield bytes.subarray(at, Math.min(bytes.length, at + CHUNK_BYTES));
    })(),
  );
  return digest;
}

/**
 * The compiled catalog file of `row` on this machine: its recorded path when that file is there, else a verified
 * copy fetched from the store into `cacheDir`. Throws NOT_FOUND when neither exists (a SQLite site whose
 * catalogs/ folder was removed: sync again).
 */
export async function localCatalogFile(store: SiteStore, row: CatalogRow, cacheDir: string): Promise<string> {
  if (existsSync(row.path)) return row.path;
  const digest = await store.catalogFileDigest(row.id);
  if (!digest)
    throw new PatchscanError(
      'NOT_FOUND',
      `the compiled catalog ${row.sha256.slice(0, 16)} is not at ${row.path} and the ` +
        `site database holds no copy: run "patchscan sync" on the site`,
    );
  const cached = join(cacheDir, `${digest}.pscat`);
  if (existsSync(cached) && sha256(readFileSync(cached)) === digest) {
    touchCachedCopy(cached);
    return cached;
  }
  const parts: Buffer[] = [];
  for (const chunk of await store.catalogFileChunks(row.id)) parts.push(chunk);
  const bytes = Buffer.concat(parts);
  if (sha256(bytes) !== digest) {
    throw new PatchscanError(
      'COMPILED_BAD_FILE',
      `the copy of catalog ${row.sha256.slice(0, 16)} in the site database does not ` +
        `match its SHA-256 (${digest.slice(0, 16)}…): run "patchscan sync" again`,
    );
  }
  mkdirSync(cacheDir, { recursive: true });
  writeFileAtomic(cached, bytes);
  return cached;
}
