/**
 * A site: one data directory holding the configuration (`patchscan.json`), the site database, compiled catalogs,
 * downloads and logs. Every site command opens one.
 *
 *   patchscan-data/
 *     patchscan.json        configuration (written by `patchscan init`, edited by administrators)
 *     patchscan.db          the site database (name set by `database` in the configuration)
 *     catalogs/<sha>.pscat  compiled catalogs, one per catalog version
 *     sync/                 downloads in progress and the last downloaded cabinet
 *     logs/wsyncmgr.log     the sync log
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ioError, PatchscanError } from '../../engine/errors.js';
import { writeFileAtomic } from '../../engine/io/atomic-file.js';
import { isPostgresUrl, openStore } from '../store/open.js';
import type { SiteStore } from '../store/port.js';

export interface SiteConfig {
  /**
   * The site database: a SQLite file (relative to the data directory), or a `postgres://` URL. The URL may name
   * its password through the environment instead (PGPASSWORD); it is never printed.
   */
  readonly database: string;
  /** host:port for `patchscan serve`; loopback unless an administrator changes it. */
  readonly listen: string;
  /** PEM files: with both, the server speaks HTTPS. */
  readonly tls?: { readonly cert: string; readonly key: string };
  readonly sync: {
    /** An http(s) URL, or a folder an administrator fills (the air-gapped case). */
    readonly source?: string;
    readonly everyHours: number;
    /** Largest catalog download accepted. */
    readonly maxBytes: number;
    /** No byte for this long → the attempt fails (and is retried). */
    readonly timeoutMs: number;
    readonly retries: number;
    readonly backoffMs: number;
  };
  /** The scan queue (both backends): how long a taken job is a worker's before it is handed out again, retries. */
  readonly queue: {
    readonly leaseSeconds: number;
    readonly retries: number;
    readonly backoffSeconds: number;
    /** PostgreSQL (pg-boss): how often expired leases are noticed and ended jobs archived. */
    readonly maintenanceSeconds: number;
  };
  readonly limits: {
    /** Largest upload body (as sent, possibly gzip). */
    readonly maxUploadBytes: number;
    /** Largest inventory after gzip is undone. */
    readonly maxInventoryBytes: number;
    /** Uploads one client may make per minute before getting 429. */
    readonly uploadsPerMinute: number;
    /** A client must send its request headers within this time (slow clients are cut). */
    readonly headersTimeoutMs: number;
    /** ... and its whole request within this time. */
    readonly requestTimeoutMs: number;
    /**
     * Inventories kept per client: the newest this many (and the one its latest scan read), pruned when a new one is
     * stored.
     */
    readonly inventoriesPerClient: number;
    /**
     * Bytes of stored inventories one client may keep: older ones go first; an inventory larger than this alone is
     * refused (413).
     */
    readonly storedBytesPerClient: number;
  };
}

export const DEFAULT_CONFIG: SiteConfig = {
  database: 'patchscan.db',
  listen: '127.0.0.1:8530',
  sync: { everyHours: 24, maxBytes: 2 * 1024 ** 3, timeoutMs: 60_000, retries: 3, backoffMs: 2_000 },
  queue: { leaseSeconds: 300, retries: 3, backoffSeconds: 5, maintenanceSeconds: 60 },
  limits: {
    maxUploadBytes: 8 * 1024 * 1024, maxInventoryBytes: 32 * 1024 * 1024, uploadsPerMinute: 60, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000,
    inventoriesPerClient: 10, storedBytesPerClient: 64 * 1024 * 1024,
  },
};

export const DEFAULT_DATA_DIR = 'patchscan-data';

export function configPath(dir: string): string {
  return join(dir, 'patchscan.json');
}

export function readConfig(dir: string): SiteConfig {
  const path = configPath(dir);
  if (!existsSync(path)) return DEFAULT_CONFIG;
  let raw: Partial<SiteConfig>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<SiteConfig>;
  } catch (e) {
    throw new PatchscanError('BAD_ARGUMENT', `${path}: not valid JSON: ${(e as Error).message}`, { file: path });
  }
  const config = { ...DEFAULT_CONFIG, ...raw, sync: { ...DEFAULT_CONFIG.sync, ...raw.sync }, queue: { ...DEFAULT_CONFIG.queue, ...raw.queue }, limits: { ...DEFAULT_CONFIG.limits, ...raw.limits } };
  // Retention settings decide what is deleted: a typo must not be read as "keep nothing".
  for (const [key, min, max] of [['inventoriesPerClient', 1, 10_000], ['storedBytesPerClient', 1, Number.MAX_SAFE_INTEGER]] as const) {
    const v: unknown = config.limits[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new PatchscanError('BAD_ARGUMENT', `${path}: limits.${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`, { file: path });
    }
  }
  return config;
}

export function writeConfig(dir: string, config: SiteConfig): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(configPath(dir), `${JSON.stringify(config, null, 2)}\n`);
}

export interface OpenSiteOptions {
  /** Overrides the configuration's `database` (`--database`). */
  readonly database?: string;
}

export class Site {
  private constructor(readonly dir: string, readonly config: SiteConfig, readonly store: SiteStore) {}

  /** Opens the site in `dir` (creating the directory and, for SQLite, the database if needed). */
  static async open(dir: string, o: OpenSiteOptions = {}): Promise<Site> {
    const abs = resolve(dir);
    try {
      mkdirSync(abs, { recursive: true });
    } catch (e) {
      throw ioError('create the site directory', abs, e);
    }
    const read = readConfig(abs);
    const config = o.database ? { ...read, database: o.database } : read;
    return new Site(abs, config, await openStore(config.database, abs, config.queue));
  }

  /** Whether the site's data lives in PostgreSQL (shared by every process and machine of the site). */
  get shared(): boolean {
    return isPostgresUrl(this.config.database);
  }

  get catalogsDir(): string {
    return join(this.dir, 'catalogs');
  }

  get syncDir(): string {
    return join(this.dir, 'sync');
  }

  get logsDir(): string {
    return join(this.dir, 'logs');
  }

  /** Whether `patchscan init` has run here. */
  async initialized(): Promise<boolean> {
    return existsSync(configPath(this.dir)) && (await this.store.setting('initialized_at')) !== undefined;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
