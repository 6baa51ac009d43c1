/**
 * Site databases as an earlier release left them: the schema migrations up to (not including) step `step` applied and
 * recorded, so that a test can seed rows the old way and check what opening the store (the remaining migrations) does.
 */
import Database from 'better-sqlite3';
import type pg from 'pg';
import { PG_MIGRATIONS } from '../../adapters/store/postgres/migrations.js';
import { MIGRATIONS } from '../../adapters/store/sqlite/migrations.js';

/** A new SQLite database `file` at schema version `step` (open: the caller closes it). */
export function sqliteMigratedTo(file: string, step: number): Database.Database {
  const db = new Database(file);
  for (const m of MIGRATIONS.slice(0, step)) {
    if (typeof m === 'string') db.exec(m);
    else m(db);
  }
  db.pragma(`user_version = ${step}`);
  return db;
}

/** The PostgreSQL database of `client` (empty) at schema version `step`. */
export async function postgresMigratedTo(client: pg.Client, step: number): Promise<void> {
  await client.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at text NOT NULL)');
  for (const [k, m] of PG_MIGRATIONS.slice(0, step).entries()) {
    await client.query(m);
    await client.query('INSERT INTO schema_migrations VALUES ($1, $2)', [k + 1, 't']);
  }
}
