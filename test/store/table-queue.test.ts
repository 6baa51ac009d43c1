/**
 * The SQLite table queue keeps the same ScanQueue contract as pg-boss (test/store/queue-contract.ts).
 */
import { join } from 'node:path';
import { SqliteDriver } from '../../adapters/store/sqlite/driver.js';
import { openSqliteStore } from '../../adapters/store/sqlite/open.js';
import { TableQueue } from '../../adapters/store/sqlite/table-queue.js';
import { tempDir } from '../helpers/tmp.js';
import { queueContract } from './queue-contract.js';

queueContract('SQLite table queue', async ({ retryLimit, holder }) => {
  const file = join(tempDir(), 'site.db');
  await openSqliteStore(file).close(); // creates the schema
  const driver = SqliteDriver.open(file);
  // Client ids the contract uses must exist (the queue's rows reference clients).
  await driver.transaction(async (tx) => {
    for (let id = 1; id <= 50; id++) await tx.run('INSERT INTO clients (id, name, name_key) VALUES (?, ?, ?)', [id, `C${id}`, `c${id}`]);
  });
  const queue = new TableQueue(driver, { retryLimit, backoffMs: 1_000, ...(holder !== undefined ? { holder } : {}) });
  return { queue, transaction: driver.transaction.bind(driver), close: () => driver.close() };
});
