/**
 * Which store a site uses: `database` in patchscan.json (or `--database`) is a file path for SQLite — the embedded
 * default — or a `postgres://` / `postgresql://` URL. PostgreSQL's adapter is loaded only when a URL asks for it.
 */
import { isAbsolute, join } from 'node:path';
import type { SiteStore } from './port.js';
import { openSqliteStore } from './sqlite/open.js';

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
    const { openPostgresStore } = await import('./postgres/open.js');
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
  return openSqliteStore(isAbsolute(database) ? database : join(siteDir, database), {
    queue: {
      ...(queue ? { retryLimit: queue.retries, backoffMs: queue.backoffSeconds * 1000 } : {}),
      ...(o.queueHolder !== undefined ? { holder: o.queueHolder } : {}),
    },
    ...(o.readThreads ? { readThreads: o.readThreads } : {}),
    ...(o.checkpoints ? { checkpoints: o.checkpoints } : {}),
  });
}
