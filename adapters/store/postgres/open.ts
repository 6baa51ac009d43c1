/**
 * Opens a PostgreSQL site store: connects (failing fast with host and database named, never the password),
 * brings the schema up to date — once, however many processes start together (a transaction-scoped advisory
 * lock) — and starts the pg-boss scan queue.
 */
import { PatchscanError } from '../../../engine/errors.js';
import type { SiteStore } from '../port.js';
import { SqlSiteStore } from '../sql/store.js';
import { PostgresDriver, type PostgresDriverOptions } from './driver.js';
import { PG_MIGRATIONS } from './migrations.js';
import { PgBossQueue, type PgBossQueueOptions } from './pg-boss-queue.js';

export interface PostgresStoreOptions extends PostgresDriverOptions {
  readonly queue?: PgBossQueueOptions;
}

export async function openPostgresStore(url: string, o: PostgresStoreOptions = {}): Promise<SiteStore> {
  const driver = await PostgresDriver.connect(url, o);
  try {
    await migrate(driver);
    const queue = await PgBossQueue.start(driver, o.queue);
    return new SqlSiteStore(driver, queue, { schemaVersion: () => schemaVersion(driver) });
  } catch (e) {
    await driver.close();
    throw e;
  }
}

async function schemaVersion(driver: PostgresDriver): Promise<number> {
  return (await driver.get<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations'))?.v ?? 0;
}

async function migrate(driver: PostgresDriver): Promise<void> {
  await driver.transaction(async (tx) => {
    // Every process of a site may start at once: one migrates, the others wait here and then find nothing to do.
    await tx.get("SELECT pg_advisory_xact_lock(hashtext('patchscan:migrations')) AS locked");
    await tx.run('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at text NOT NULL)');
    const from = (await tx.get<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations'))?.v ?? 0;
    if (from > PG_MIGRATIONS.length) {
      throw new PatchscanError(
        'BAD_ARGUMENT',
        `the site database ${driver.location} has schema version ${from}, newer than ` +
          `this patchscan knows (${PG_MIGRATIONS.length}): upgrade patchscan`,
      );
    }
    for (let v = from; v < PG_MIGRATIONS.length; v++) {
      await tx.run(PG_MIGRATIONS[v]!);
      await tx.run('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', [v + 1, new Date().toISOString()]);
    }
  });
}
