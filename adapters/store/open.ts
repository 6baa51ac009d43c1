/**
 * Which store a site uses: `database` in patchscan.json (or `--database`) is a file path for SQLite — the embedded
 * default — or a `postgres://` / `postgresql://` URL. PostgreSQL's adapter is loaded only when a URL asks for it.
 */
import { isAbsolute, join } from 'node:path';
import type { SiteStore } from './port.js';
import { PatchscanError } from '../../engine/errors.js';

export const isPostgresUrl = (s: string): boolean => /^postgres(ql)?:\/\//i.test(s);

/** `database` as configured; a relative file path is taken from the site directory. */
export interface QueueSettings {
  readonly retries: number;
  readonly backoffSeconds: number;
  readonly maintenanceSeconds: number;
  readonly heartbeatSeconds?: number;
}

/** How the process that opens the store uses it (only SQLite's driver has a choice to make). */
export interface OpenStoreOptions {
  /** SQLite: worker threads that run reads outside a transaction (`serve`: so a slow report never holds its HTTP loop). */
  readonly readThreads?: number;
  /** Whose leases this store's scan-job takes are (queue.ts QueueHolder); default this process. */
  readonly queueHolder?: string;
  /** SQLite: who checkpoints the WAL (sqlite/driver.ts; default a thread of the driver's, `inline` each commit). */
  readonly checkpoints?: 'thread' | 'inline';
}

export async function openStore(database: string, siteDir: string, queue?: QueueSettings, o: OpenStoreOptions = {}): Promise<SiteStore> {
  if (isPostgresUrl(database)) {
    const { openPostgresStore } = await driverModule(() => import('./postgres/open.js'), ['pg', 'pg-boss'], 'PostgreSQL');
    return openPostgresStore(
      database,
      queue
        ? {
            queue: {
              retryLimit: queue.retries,
              retryDelaySeconds: queue.backoffSeconds,
              maintenanceIntervalSeconds: queue.maintenanceSeconds,
              heartbeatSeconds: queue.heartbeatSeconds,
              ...(o.queueHolder !== undefined ? { workerId: o.queueHolder } : {}),
            },
          }
        : o.queueHolder !== undefined
          ? { queue: { workerId: o.queueHolder } }
          : {},
    );
  }
  const { openSqliteStore } = await driverModule(() => import('./sqlite/open.js'), ['better-sqlite3'], 'SQLite');
  return openSqliteStore(isAbsolute(database) ? database : join(siteDir, database), {
    queue: {
      ...(queue ? { retryLimit: queue.retries, backoffMs: queue.backoffSeconds * 1000 } : {}),
      ...(o.queueHolder !== undefined ? { holder: o.queueHolder } : {}),
    },
    ...(o.readThreads ? { readThreads: o.readThreads } : {}),
    ...(o.checkpoints ? { checkpoints: o.checkpoints } : {}),
  });
}

/**
 * A store's modules, loaded when a store of that kind is opened: the database packages are optional dependencies
 * (package.json), so that an embedder of the engine alone, or a site on one database, installs no other's (SQLite's is
 * a native build). One that is missing is said, with what to do.
 */
async function driverModule<T>(load: () => Promise<T>, packages: readonly string[], store: string): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const message = e instanceof Error ? e.message : '';
    const reported = packages.find((p) => message.includes(`'${p}'`));
    if ((e as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND' || reported === undefined) throw e;
    // Node names the first import it could not resolve, and which that is is not fixed: every package is looked up, so
    // that one install command mends them all.
    const missing = packages.filter((p) => p === reported || !resolvable(p));
    const named =
      missing.length === 1
        ? `the ${missing[0]} package, which is not installed (an optional dependency of patchscan: installed with --omit=optional, or its install failed)`
        : `the ${missing.join(' and ')} packages, which are not installed (optional dependencies of patchscan: installed with --omit=optional, or their install failed)`;
    throw new PatchscanError(
      'STORE_UNAVAILABLE',
      `a ${store} site store needs ${named}: run npm install ${missing.join(' ')}`,
      { package: missing[0], packages: missing },
      { cause: e },
    );
  }
}

/** Whether `specifier` resolves from here (through any module hooks). Node before 20.6 has no import.meta.resolve: true. */
function resolvable(specifier: string): boolean {
  if (typeof import.meta.resolve !== 'function') return true; // only the package Node reported is then named
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}
