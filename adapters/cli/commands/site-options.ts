/**
 * What every site command shares: where the site is (`--data`, $PATCHSCAN_DATA, ./patchscan-data), which database
 * it uses (`--database`, $PATCHSCAN_DATABASE, or the configuration), and opening and closing it around the work.
 *
 * Only `patchscan init` makes a site. Every other command refuses a directory without the site's patchscan.json —
 * a mistyped --data must not create an empty site (and answer with zeros) — and then creates nothing: no
 * directory, no database file. That holds with --database too: a process of a PostgreSQL site still works from a
 * site directory (`patchscan init --data DIR --database postgres://…` makes one that joins the site).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { PatchscanError } from '../../../engine/errors.js';
import { configPath, DEFAULT_DATA_DIR, Site } from '../../site/site.js';
import { maskDatabaseUrl } from '../../store/database-url.js';
import { isPostgresUrl } from '../../store/open.js';

export const DATA_HELP = 'the site directory, made by "patchscan init" (default $PATCHSCAN_DATA or ./patchscan-data)';
export const DATABASE_HELP =
  'the site database: a SQLite file or postgres://user@host/db (default ' +
  '$PATCHSCAN_DATABASE, else "database" in the site\'s patchscan.json); the site ' +
  'directory is needed too';
const INIT_DATABASE_HELP =
  'the site database: a SQLite file or postgres://user@host/db (default ' +
  '$PATCHSCAN_DATABASE, else patchscan.db in the site directory); written to ' +
  'patchscan.json';

export interface SiteOptions {
  readonly data?: string;
  readonly database?: string;
}

export interface OpenOptions {
  /** Make the site if the directory is not one yet (`patchscan init` only). */
  readonly create?: boolean;
  /** SQLite: reads outside a transaction on this many worker threads (`serve`). */
  readonly readThreads?: number;
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

export const dataDir = (o: SiteOptions): string => o.data ?? process.env.PATCHSCAN_DATA ?? DEFAULT_DATA_DIR;

/** `--data` and `--database` on a command (`init`'s help says that it writes them). */
export function siteOptions(c: Command): Command {
  return c.option('--data <dir>', DATA_HELP).option('--database <url|file>', c.name() === 'init' ? INIT_DATABASE_HELP : DATABASE_HELP);
}

const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** Refuses a directory that is not a site (no patchscan.json), before anything is created. */
export async function requireSiteDir(dir: string, database: string | undefined): Promise<void> {
  if (isFile(configPath(dir))) return;
  const abs = resolve(dir);
  const why = !existsSync(abs) ? 'it does not exist' : statSync(abs).isDirectory() ? 'it has no patchscan.json' : 'it is not a directory';
  // The demo makes its site one level down (patchscan-data/site): point there when that is what was meant.
  const demo = isFile(configPath(join(dir, 'site'))) ? `; the demo's site is ${join(dir, 'site')} (--data ${join(dir, 'site')})` : '';
  let db = '';
  if (database) {
    const shown = isPostgresUrl(database) ? maskDatabaseUrl(database) : database;
    db =
      `. The database ${shown} was not opened: it is used from a site directory ` +
      `("patchscan init --data DIR --database ` +
      `${isPostgresUrl(database) ? 'URL' : 'FILE'}" makes one, also to join an ` +
      `existing PostgreSQL site from another machine)`;
  }
  throw new PatchscanError(
    'NOT_FOUND',
    `${abs} is not a patchscan site (${why}): run "patchscan init --data ${dir}" to ` +
      `create one, or give --data the directory of an existing site${demo}${db}`,
    { dir: abs },
  );
}

export async function openSite(o: SiteOptions, open: OpenOptions = {}): Promise<Site> {
  const database = o.database ?? process.env.PATCHSCAN_DATABASE;
  const dir = dataDir(o);
  if (!open.create) await requireSiteDir(dir, database);
  return Site.open(dir, { ...(database ? { database } : {}), ...(open.readThreads ? { readThreads: open.readThreads } : {}) });
}

/** Opens the site, runs `fn`, closes the site whatever happens. */
export async function withSite<T>(o: SiteOptions, fn: (site: Site) => Promise<T>, open: OpenOptions = {}): Promise<T> {
  const site = await openSite(o, open);
  try {
    return await fn(site);
  } finally {
    await site.close();
  }
}

export async function requireInit(site: Site): Promise<void> {
  if (!(await site.initialized()))
    throw new PatchscanError('NOT_FOUND', `${site.dir} is not a patchscan site yet: run "patchscan init --data ${site.dir}" first`);
}
