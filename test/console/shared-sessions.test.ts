/**
 * Console sessions live in the site's store: two real `patchscan serve` processes on one PostgreSQL database (as two
 * servers behind a load balancer) know the same sessions, a restart keeps them, and `patchscan admin-token reset`
 * signs them out everywhere. The store keeps only the SHA-256 of a session id. Everything runs through the built CLI
 * (`npm run build` first); the test reads the database itself only to check what was stored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../adapters/store/sql/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { BIN, runCliAsync, type CliRun } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const children = new Set<ChildProcess>();

const run = (args: readonly string[]): Promise<CliRun> => runCliAsync(args);

/** `patchscan serve --no-scan` on a free loopback port, as its own process; resolves with its URL. */
function serve(data: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', data, '--listen', '127.0.0.1:0', '--no-scan'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer): void => {
      out += c.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

async function stop(p: { child: ChildProcess }): Promise<void> {
  if (p.child.exitCode !== null) return;
  const gone = new Promise((resolve) => p.child.once('exit', resolve));
  p.child.kill('SIGTERM');
  await gone;
}

/** Where a console page request with `cookie` ends: 200 (the page) or a redirect to /login. */
async function page(url: string, cookie: string): Promise<string> {
  const r = await fetch(`${url}/sync`, { headers: { cookie }, redirect: 'manual' });
  return r.status === 303 ? `303 ${r.headers.get('location')}` : String(r.status);
}

describe('console sessions shared by every serve of a PostgreSQL site', { timeout: 120_000 }, () => {
  let db: TestDatabase;
  let sql: pg.Client;
  const dir = tempDir();
  const A = join(dir, 'A'),
    B = join(dir, 'B');
  let admin = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    const init = await run(['init', '--data', A, '--database', db.url, '--test-computer', 'PC-1']);
    expect(init.code, init.err).toBe(0);
    admin = /\n\s+(psa_\S+)/.exec(init.out)![1]!;
    const joined = await run(['init', '--data', B, '--database', db.url]);
    expect(joined.code, joined.err).toBe(0);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await sql?.end();
    await db?.drop();
  });

  it('signed in on one server, known to the other; kept across restarts; admin-token reset signs out everywhere', async () => {
    let a = await serve(A);
    let b = await serve(B);
    const login = await fetch(`${a.url}/login`, { method: 'POST', body: new URLSearchParams({ token: admin }), redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const id = cookie.replace(/^ps_session=/, '');
    expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await page(a.url, cookie)).toBe('200');
    expect(await page(b.url, cookie)).toBe('200'); // the other server knows it
    expect(await page(b.url, 'ps_session=made-up-session-id')).toBe('303 /login');

    // Stored hashed, never as the cookie's value.
    const rows = (await sql.query<{ id_hash: string; admin_hash: string }>('SELECT id_hash, admin_hash FROM console_sessions')).rows;
    expect(rows).toEqual([{ id_hash: sha256Hex(id), admin_hash: sha256Hex(admin) }]);

    // Both servers restart: the session is still there.
    await Promise.all([stop(a), stop(b)]);
    [a, b] = await Promise.all([serve(A), serve(B)]);
    expect(await page(a.url, cookie)).toBe('200');
    expect(await page(b.url, cookie)).toBe('200');

    // Sign-out on B ends it on A too.
    const second = await fetch(`${b.url}/login`, { method: 'POST', body: new URLSearchParams({ token: admin }), redirect: 'manual' });
    const cookie2 = (second.headers.get('set-cookie') ?? '').split(';')[0];
    expect(await page(a.url, cookie2)).toBe('200');
    const out = await fetch(`${b.url}/logout`, { method: 'POST', headers: { cookie: cookie2 }, redirect: 'manual' });
    expect(out.status).toBe(303);
    expect(await page(a.url, cookie2)).toBe('303 /login');
    expect(await page(a.url, cookie)).toBe('200');

    // admin-token reset, run as its own process on the other machine's site directory: signed out on both servers.
    const reset = await run(['admin-token', 'reset', '--data', B]);
    expect(reset.code, reset.err).toBe(0);
    expect(await page(a.url, cookie)).toBe('303 /login');
    expect(await page(b.url, cookie)).toBe('303 /login');
    expect(Number((await sql.query<{ n: string }>('SELECT count(*) AS n FROM console_sessions')).rows[0].n)).toBe(0);
    const fresh = /\n\s+(psa_\S+)/.exec(reset.out)![1];
    const again = await fetch(`${a.url}/login`, { method: 'POST', body: new URLSearchParams({ token: fresh }), redirect: 'manual' });
    expect(again.status).toBe(303);
    expect(await page(b.url, (again.headers.get('set-cookie') ?? '').split(';')[0])).toBe('200');
    await Promise.all([stop(a), stop(b)]);
  });
});
