/**
 * Catalog distribution (ITMU's "send to all distribution points"): where a site's processes run on several
 * machines (a PostgreSQL site), the compiled catalog in service is kept in the database too, in 1 MiB chunks, and
 * each `serve` or `worker` that does not find it at its recorded path fetches it by catalog id, checks its SHA-256
 * against the one recorded at sync, and caches it in its own site directory (catalogs/<sha256>.pscat). A process
 * loads a new catalog version only between batches (ScanService.current()). A worker can fetch the same bytes
 * from a site server instead (`worker --catalog-from`, catalog-download.ts): both are a {@link CatalogSource}.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchscanError } from '../../engine/errors.js';
import { writeFileAtomic } from '../../engine/io/atomic-file.js';
import type { CatalogRow, SiteStore } from '../store/port.js';

export const CHUNK_BYTES = 1 << 20;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Where a process gets a catalog version's compiled file from. */
export interface CatalogSource {
  /** A local path of `row`'s compiled catalog, fetched, verified and cached first when this machine lacks it. */
  file(row: CatalogRow): Promise<string>;
}

/** The site's file at its recorded path, else the copy in the site database (verified, cached in `cacheDir`). */
export const storeCatalogSource = (store: SiteStore, cacheDir: string): CatalogSource => ({
  file: (row) => localCatalogFile(store, row, cacheDir),
});

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
  if (existsSync(cached) && sha256(readFileSync(cached)) === digest) return cached;
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
