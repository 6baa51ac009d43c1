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
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ioError } from '../../engine/errors.js';
import { configPath, readConfig, type SiteConfig } from './config.js';
import { isPostgresUrl, openStore } from '../store/open.js';
import type { SiteStore } from '../store/port.js';

export { configPath, DEFAULT_CONFIG, DEFAULT_DATA_DIR, readConfig, type SiteConfig, validateConfig, writeConfig } from './config.js';

export interface OpenSiteOptions {
  /** Overrides the configuration's `database` (`--database`). */
  readonly database?: string;
  /** SQLite: reads outside a transaction run on this many worker threads (`serve` opens its site with 2). */
  readonly readThreads?: number;
  /** SQLite: who checkpoints the WAL, the driver's own thread (default: sqlite/checkpointer.ts) or each commit. */
  readonly checkpoints?: 'thread' | 'inline';
  /** Whose leases the site's scan-job takes are (store/queue.ts QueueHolder): serve's scan thread has its own. */
  readonly queueHolder?: string;
  /**
   * The configuration to use instead of reading patchscan.json: serve's scan thread runs with the configuration serve
   * started with, so an edit of the file while serve runs (a typo included) changes neither until serve restarts.
   */
  readonly config?: SiteConfig;
}

export class Site {
  private constructor(
    readonly dir: string,
    readonly config: SiteConfig,
    readonly store: SiteStore,
  ) {}

  /** Opens the site in `dir` (creating the directory and, for SQLite, the database if needed). */
  static async open(dir: string, o: OpenSiteOptions = {}): Promise<Site> {
    const abs = resolve(dir);
    let created: string | undefined;
    try {
      created = mkdirSync(abs, { recursive: true });
    } catch (e) {
      throw ioError('create the site directory', abs, e);
    }
    try {
      const read = o.config ?? readConfig(abs);
      const config = o.database ? { ...read, database: o.database } : read;
      return new Site(
        abs,
        config,
        await openStore(config.database, abs, config.queue, {
          ...(o.readThreads !== undefined ? { readThreads: o.readThreads } : {}),
          ...(o.queueHolder !== undefined ? { queueHolder: o.queueHolder } : {}),
          ...(o.checkpoints !== undefined ? { checkpoints: o.checkpoints } : {}),
        }),
      );
    } catch (e) {
      // A site that could not be opened leaves no directory behind that this call made, as long as nothing is in it.
      if (created !== undefined) removeEmptyDirs(abs, created);
      throw e;
    }
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

/** Removes `from` and its parents up to `upTo` (the first directory mkdir created), each only while it is empty. */
function removeEmptyDirs(from: string, upTo: string): void {
  for (let d = from; ; d = dirname(d)) {
    try {
      rmdirSync(d); // refuses a directory that is not empty
    } catch {
      return;
    }
    if (d === upTo || dirname(d) === d) return;
  }
}
