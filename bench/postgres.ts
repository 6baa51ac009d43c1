/**
 * A PostgreSQL database of its own for a benchmark run: created on the server named by --admin-url (or
 * $PATCHSCAN_BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432/postgres), dropped by `drop()`.
 */
import pg from 'pg';
import { arg } from './args.js';

async function adminQuery(admin: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export async function benchDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = arg('admin-url', process.env.PATCHSCAN_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  await adminQuery(admin, `CREATE DATABASE ${name}`);
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => adminQuery(admin, `DROP DATABASE ${name} WITH (FORCE)`) };
}
