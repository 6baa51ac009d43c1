/**
 * Opens a SQLite site store: the file (created if needed), its schema brought up to date, the table queue.
 */
import { PatchscanError } from '../../../engine/errors.js';
import type { SiteStore } from '../port.js';
import { SqlSiteStore } from '../sql/store.js';
import { SqliteDriver, type SqliteDriverOptions } from './driver.js';
import { MIGRATIONS } from './migrations.js';
import { TableQueue, type TableQueueOptions } from './table-queue.js';

export interface SqliteStoreOptions extends SqliteDriverOptions {
  readonly queue?: TableQueueOptions;
}

export function openSqliteStore(path: string, o: SqliteStoreOptions = {}): SiteStore {
  const driver = SqliteDriver.open(path, o);
  try {
    migrate(driver);
  } catch (e) {
    void driver.close();
    throw e;
  }
  const version = (): number => driver.database.pragma('user_version', { simple: true }) as number;
  return new SqlSiteStore(driver, new TableQueue(driver, o.queue), { schemaVersion: async () => version() });
}

/** Runs the migrations this database has not had, each in its own transaction (before anything else uses it). */
function migrate(driver: SqliteDriver): void {
  const db = driver.database;
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > MIGRATIONS.length) {
    throw new PatchscanError(
      'BAD_ARGUMENT',
      `the site database ${driver.location} has schema version ${from}, newer than ` +
        `this patchscan knows (${MIGRATIONS.length}): upgrade patchscan`,
    );
  }
  for (let v = from; v < MIGRATIONS.length; v++) {
    const step = MIGRATIONS[v]!;
    db.transaction(() => {
      if (typeof step === 'string') db.exec(step);
      else step(db);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
