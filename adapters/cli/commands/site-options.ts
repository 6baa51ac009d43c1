/**
 * What every site command shares: where the site is (`--data`, $PATCHSCAN_DATA, ./patchscan-data), which database
 * it uses (`--database`, $PATCHSCAN_DATABASE, or the configuration), and opening and closing it around the work.
 */
import type { Command } from 'commander';
import { PatchscanError } from '../../../engine/errors.js';
import { DEFAULT_DATA_DIR, Site } from '../../site/site.js';

export const DATA_HELP = 'site directory (default $PATCHSCAN_DATA or ./patchscan-data)';
export const DATABASE_HELP = 'the site database: a SQLite file or postgres://user@host/db (default $PATCHSCAN_DATABASE, else "database" in patchscan.json)';

export interface SiteOptions {
  readonly data?: string;
  readonly database?: string;
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

export const dataDir = (o: SiteOptions): string => o.data ?? process.env.PATCHSCAN_DATA ?? DEFAULT_DATA_DIR;

/** `--data` and `--database` on a command. */
export function siteOptions(c: Command): Command {
  return c.option('--data <dir>', DATA_HELP).option('--database <url|file>', DATABASE_HELP);
}

export async function openSite(o: SiteOptions): Promise<Site> {
  const database = o.database ?? process.env.PATCHSCAN_DATABASE;
  return Site.open(dataDir(o), database ? { database } : {});
}

/** Opens the site, runs `fn`, closes the site whatever happens. */
export async function withSite<T>(o: SiteOptions, fn: (site: Site) => Promise<T>): Promise<T> {
  const site = await openSite(o);
  try {
    return await fn(site);
  } finally {
    await site.close();
  }
}

export async function requireInit(site: Site): Promise<void> {
  if (!(await site.initialized())) throw new PatchscanError('NOT_FOUND', `${site.dir} is not a patchscan site yet: run "patchscan init --data ${site.dir}" first`);
}
