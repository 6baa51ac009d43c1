/**
 * Real PostgreSQL for tests: each test file gets a database of its own (created here, dropped when it is done), so
 * files run in parallel without seeing each other's rows. No mocks: CI (.ci/run) guarantees a server on
 * 127.0.0.1:5432 that lets `postgres` in without a password; when it is not there, tests FAIL with the reason —
 * they never skip, because a skipped PostgreSQL suite looks green.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The maintenance database we connect to in order to create and drop test databases. */
export const ADMIN_URL = process.env.PATCHSCAN_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const urlFor = (database: string): string => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
};

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5_000 });
  try {
    await c.connect();
  } catch (e) {
    throw new Error(
      `PostgreSQL is needed for this test and is not reachable at ${ADMIN_URL} (${(e as Error).message}). ` +
        'Start it (pg_ctlcluster --skip-systemctl-redirect <version> main start) or run .ci/run, which installs and starts it.',
      { cause: e },
    );
  }
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Resolves when the server lets us in; otherwise rejects with what to do about it. */
export async function postgresAvailable(): Promise<void> {
  await withAdmin((c) => c.query('SELECT 1'));
}

export interface TestDatabase {
  /** postgres://postgres@127.0.0.1:5432/patchscan_test_<pid>_<random> */
  readonly url: string;
  readonly name: string;
  /** Ends every connection to it and drops it. */
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `patchscan_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  // The name is ours (digits, hex): safe to splice into DDL, which takes no parameters.
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  let dropped: Promise<void> | undefined;
  return {
    url: urlFor(name),
    name,
    drop: () =>
      (dropped ??= withAdmin(async (c) => {
        // WITH (FORCE) (PostgreSQL 13+) terminates the connections a test left open (a killed worker, a held lock).
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      })),
  };
}
