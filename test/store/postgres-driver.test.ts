/**
 * The PostgreSQL driver against a real server: placeholders, value types, transactions, durability, outages and the
 * advisory lock. One database for the file, created and dropped here.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatchscanError } from '../../engine/errors.js';
import { PostgresDriver, maskDatabaseUrl, pgBossDb, toPositional } from '../../adapters/store/postgres/driver.js';
import type { SqlExecutor } from '../../adapters/store/sql/driver.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.js';

let db: TestDatabase;
let driver: PostgresDriver;

beforeAll(async () => {
  await postgresAvailable();
  db = await createTestDatabase();
  driver = await PostgresDriver.connect(db.url, { max: 4 });
  await driver.run('CREATE TABLE t (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, n bigint, x numeric, b bytea)');
});

afterAll(async () => {
  await driver?.close();
  await db?.drop();
});

async function rowsIn(name: string): Promise<number> {
  return (await driver.get<{ n: number }>('SELECT count(*) AS n FROM t WHERE name LIKE ?', [name]))!.n;
}

async function unavailableError(p: Promise<unknown>): Promise<PatchscanError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(PatchscanError.is(e, 'STORE_UNAVAILABLE'), `expected STORE_UNAVAILABLE, got ${String(e)}`).toBe(true);
  return e as PatchscanError;
}

describe('placeholders', () => {
  it.each([
    ['SELECT 1', 'SELECT 1'],
    ['SELECT ?, ?', 'SELECT $1, $2'],
    ["SELECT '?' AS q, ? AS p", "SELECT '?' AS q, $1 AS p"],
    ["SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"],
    ['SELECT "a?b" FROM t WHERE x = ?', 'SELECT "a?b" FROM t WHERE x = $1'],
    ['SELECT ? -- why?\n, ? /* and ? */', 'SELECT $1 -- why?\n, $2 /* and ? */'],
    [
      "CREATE FUNCTION f() RETURNS text AS $$ SELECT '?' || 'a?' $$ LANGUAGE sql; SELECT ?",
      "CREATE FUNCTION f() RETURNS text AS $$ SELECT '?' || 'a?' $$ LANGUAGE sql; SELECT $1",
    ],
    ['SELECT $body$ ? $body$, ?', 'SELECT $body$ ? $body$, $1'],
    ["SELECT '' AS e, ?", "SELECT '' AS e, $1"],
    ["SELECT 'unterminated ?", "SELECT 'unterminated ?"],
  ])('%j → %j', (sql, expected) => {
    expect(toPositional(sql)).toBe(expected);
  });

  it("runs against the server with a '?' literal beside parameters", async () => {
    const r = await driver.get<{ q: string; a: string; b: string }>("SELECT '?' AS q, ?::text AS a, ?::text AS b", ['one', 'two']);
    expect(r).toEqual({ q: '?', a: 'one', b: 'two' });
  });
});

describe('values', () => {
  it('int8, numeric and bytea round-trip as number, number and Buffer', async () => {
    const blob = Buffer.from([0, 1, 2, 255, 0x3f]);
    await driver.run('INSERT INTO t (name, n, x, b) VALUES (?, ?, ?, ?)', ['values', 2 ** 40 + 3, 12.5, blob]);
    const r = await driver.get<{ id: unknown; n: unknown; x: unknown; b: unknown; c: unknown; s: unknown }>(
      'SELECT id, n, x, b, (SELECT count(*) FROM t) AS c, (SELECT sum(n) FROM t) AS s FROM t WHERE name = ?',
      ['values'],
    );
    expect(typeof r!.id).toBe('number');
    expect(r!.n).toBe(2 ** 40 + 3);
    expect(r!.x).toBe(12.5);
    expect(typeof r!.c).toBe('number'); // count(*) is int8
    expect(r!.s).toBe(2 ** 40 + 3); // sum(bigint) is numeric
    expect(Buffer.isBuffer(r!.b)).toBe(true);
    expect(Buffer.compare(r!.b as Buffer, blob)).toBe(0);
  });

  it('a bigint parameter goes in whole; it comes back as a number', async () => {
    await driver.run('INSERT INTO t (name, n) VALUES (?, ?)', ['bigint', 9_007_199_254_740_991n]);
    expect((await driver.get<{ n: unknown }>('SELECT n FROM t WHERE name = ?', ['bigint']))!.n).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('a Uint8Array that is not a Buffer goes in as bytea; NULL comes back as null', async () => {
    await driver.run('INSERT INTO t (name, b, n) VALUES (?, ?, ?)', ['u8', new Uint8Array([7, 8, 9]), null]);
    const r = await driver.get<{ b: Buffer; n: unknown }>('SELECT b, n FROM t WHERE name = ?', ['u8']);
    expect([...r!.b]).toEqual([7, 8, 9]);
    expect(r!.n).toBeNull();
  });

  it("the parsers are this pool's: pg's global defaults are untouched", async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      expect((await c.query('SELECT 5::int8 AS n')).rows[0].n).toBe('5');
    } finally {
      await c.end();
    }
  });

  it('run() reports the rows it touched; get() of nothing is undefined', async () => {
    await driver.run('INSERT INTO t (name) VALUES (?), (?)', ['changes-1', 'changes-2']);
    expect((await driver.run('UPDATE t SET n = 1 WHERE name LIKE ?', ['changes-%'])).changes).toBe(2);
    expect(await driver.get('SELECT * FROM t WHERE name = ?', ['nobody'])).toBeUndefined();
  });

  it('SQL errors that are not outages pass through with their SQLSTATE', async () => {
    const e = await driver.run('INSERT INTO t (name) VALUES (?)', ['changes-1']).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect((e as { code?: string }).code).toBe('23505');
    expect(PatchscanError.is(e)).toBe(false);
  });
});

describe('transactions', () => {
  it('commit keeps every statement', async () => {
    const out = await driver.transaction(async (tx) => {
      await tx.run('INSERT INTO t (name) VALUES (?)', ['commit-1']);
      await tx.run('INSERT INTO t (name) VALUES (?)', ['commit-2']);
      return (await tx.get<{ n: number }>('SELECT count(*) AS n FROM t WHERE name LIKE ?', ['commit-%']))!.n;
    });
    expect(out).toBe(2);
    expect(await rowsIn('commit-%')).toBe(2);
  });

  it('a throw inside fn rolls everything back and rethrows', async () => {
    const boom = new Error('boom');
    await expect(
      driver.transaction(async (tx) => {
        await tx.run('INSERT INTO t (name) VALUES (?)', ['rollback-1']);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await rowsIn('rollback-%')).toBe(0);
  });

  it('a failing statement rolls back the statements before it', async () => {
    await expect(
      driver.transaction(async (tx) => {
        await tx.run('INSERT INTO t (name) VALUES (?)', ['rollback-2']);
        await tx.run('INSERT INTO t (name) VALUES (?)', ['commit-1']); // unique violation
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await rowsIn('rollback-%')).toBe(0);
  });

  it('uncommitted rows are invisible outside the transaction', async () => {
    await driver.transaction(async (tx) => {
      await tx.run('INSERT INTO t (name) VALUES (?)', ['isolated']);
      expect(await rowsIn('isolated')).toBe(0);
    });
    expect(await rowsIn('isolated')).toBe(1);
  });

  it('relaxed durability turns synchronous_commit off for that transaction only', async () => {
    const inside = await driver.transaction(
      async (tx) => {
        await tx.run('INSERT INTO t (name) VALUES (?)', ['relaxed']);
        return (await tx.get<{ s: string }>("SELECT current_setting('synchronous_commit') AS s"))!.s;
      },
      { durability: 'relaxed' },
    );
    expect(inside).toBe('off');
    expect(await rowsIn('relaxed')).toBe(1);
    const full = await driver.transaction(
      async (tx) => (await tx.get<{ s: string }>("SELECT current_setting('synchronous_commit') AS s"))!.s,
    );
    expect(full).toBe('on');
  });

  it("an executor used after its transaction ended refuses (it would run on someone else's session)", async () => {
    let kept: SqlExecutor | undefined;
    await driver.transaction(async (tx) => {
      kept = tx;
    });
    await expect(kept!.get('SELECT 1')).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it("pgBossDb runs $n SQL inside the caller's transaction, and refuses other executors", async () => {
    await expect(
      driver.transaction(async (tx) => {
        await pgBossDb(tx).executeSql('INSERT INTO t (name) VALUES ($1)', ['boss-1']);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await rowsIn('boss-%')).toBe(0);
    const fake: SqlExecutor = {
      all: async () => [],
      get: async () => undefined,
      getByKey: async () => undefined,
      run: async () => ({ changes: 0 }),
    };
    expect(() => pgBossDb(fake)).toThrow(/PostgreSQL executor/);
  });

  it('concurrent transactions each get their own connection', async () => {
    await Promise.all(
      [1, 2, 3, 4, 5, 6].map((i) =>
        driver.transaction(async (tx) => {
          await tx.run('INSERT INTO t (name) VALUES (?)', [`parallel-${i}`]);
          await tx.get('SELECT pg_sleep(0.02)');
        }),
      ),
    );
    expect(await rowsIn('parallel-%')).toBe(6);
  });
});

describe('outages', () => {
  it('an unreachable server is STORE_UNAVAILABLE naming host, port and database, never the password', async () => {
    const e = await unavailableError(PostgresDriver.connect('postgres://patchscan:s3cret-pw@127.0.0.1:1/sitedb'));
    expect(e.message).toContain('127.0.0.1');
    expect(e.message).toContain(':1');
    expect(e.message).toContain('sitedb');
    expect(e.message).toMatch(/refused/);
    expect(e.message).not.toContain('s3cret-pw');
    expect(JSON.stringify(e.toJSON())).not.toContain('s3cret-pw');
  });

  it('a string that is not a postgres:// URL is BAD_ARGUMENT, with any password masked', async () => {
    for (const bad of ['host=127.0.0.1 password=kw-secret dbname=x', 'postgres://u:url-secret@[bad/x', 'mysql://u:pw@h/db']) {
      const e = await PostgresDriver.connect(bad).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(PatchscanError.is(e, 'BAD_ARGUMENT'), String(e)).toBe(true);
      expect((e as Error).message).not.toMatch(/kw-secret|url-secret/);
    }
  });

  it('a missing database says so', async () => {
    const u = new URL(db.url);
    u.pathname = '/patchscan_no_such_database';
    const e = await unavailableError(PostgresDriver.connect(u.toString()));
    expect(e.message).toMatch(/database "patchscan_no_such_database" does not exist/);
  });

  it('a server that goes away under a pool: STORE_UNAVAILABLE, and the driver recovers when it is back', async () => {
    const d = await PostgresDriver.connect(db.url, { max: 2 });
    try {
      const pid = (await d.get<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid;
      // Killing a connection mid-statement is what a server shutdown does to it (57P01 admin_shutdown).
      // The handler is attached at once: the rejection can arrive before pg_terminate_backend's own reply does.
      const killed = unavailableError(d.get('SELECT pg_sleep(5)'));
      await new Promise((r) => setTimeout(r, 100));
      await driver.get(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ' +
          'current_database() AND pid <> pg_backend_pid() AND query LIKE ?',
        ['SELECT pg_sleep(5)%'],
      );
      const e = await killed;
      expect(e.message).toContain(db.name);
      // The same idle connection may have been the one killed, or not; either way the next statement works.
      expect(typeof pid).toBe('number');
      expect(await d.get<{ one: number }>('SELECT 1 AS one')).toEqual({ one: 1 });
      // And inside a transaction.
      const tx = unavailableError(
        d.transaction(async (t) => {
          await t.get('SELECT pg_sleep(5)');
        }),
      );
      await new Promise((r) => setTimeout(r, 100));
      await driver.get(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ' +
          'current_database() AND pid <> pg_backend_pid() AND query LIKE ?',
        ['SELECT pg_sleep(5)%'],
      );
      await tx;
      expect(await d.transaction(async (t) => t.get<{ one: number }>('SELECT 1 AS one'))).toEqual({ one: 1 });
    } finally {
      await d.close();
    }
  });

  it('location masks the password', async () => {
    expect(maskDatabaseUrl('postgres://u:pw@h:5432/db')).toBe('postgres://u:***@h:5432/db');
    expect(maskDatabaseUrl('postgresql://u:p%40ss@h/db?sslmode=require')).toBe('postgresql://u:***@h/db?sslmode=require');
    expect(maskDatabaseUrl('postgres://u@h/db?password=pw')).toBe('postgres://u@h/db?password=***');
    expect(maskDatabaseUrl('postgres://h/db')).toBe('postgres://h/db');
    expect(driver.location).toBe(db.url);
    const u = new URL(db.url);
    u.password = 'not-needed';
    const d = await PostgresDriver.connect(u.toString()); // trust auth: the password is ignored
    try {
      expect(d.location).not.toContain('not-needed');
      expect(d.location).toContain('***');
      expect(d.dialect).toBe('postgres');
    } finally {
      await d.close();
    }
  });
});

describe('advisory lock', () => {
  it('is exclusive across drivers, and free again after release', async () => {
    const other = await PostgresDriver.connect(db.url, { max: 2 });
    try {
      const a = await driver.tryAdvisoryLock('sync:site');
      expect(a).toBeDefined();
      expect(await other.tryAdvisoryLock('sync:site')).toBeUndefined();
      // Another key is another lock.
      const k = await other.tryAdvisoryLock('sync:elsewhere');
      expect(k).toBeDefined();
      await k!.release();
      await a!.release();
      await a!.release(); // idempotent
      const b = await other.tryAdvisoryLock('sync:site');
      expect(b).toBeDefined();
      await b!.release();
    } finally {
      await other.close();
    }
  });

  it('dies with its holder: a closed driver, or a connection the server killed', async () => {
    const holder = await PostgresDriver.connect(db.url, { max: 2 });
    expect(await holder.tryAdvisoryLock('sync:dies')).toBeDefined();
    expect(await driver.tryAdvisoryLock('sync:dies')).toBeUndefined();
    await holder.close(); // unlocks what it holds (and does not wait for those connections forever)
    const mine = await driver.tryAdvisoryLock('sync:dies');
    expect(mine).toBeDefined();
    await mine!.release();

    // A holder process that is killed: its backend goes away, and so does the lock.
    const victim = await PostgresDriver.connect(db.url, { max: 2 });
    try {
      const held = await victim.tryAdvisoryLock('sync:killed');
      expect(held).toBeDefined();
      expect(held!.lost).toBe(false);
      await driver.get(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND " +
          'granted AND database = (SELECT oid FROM pg_database WHERE datname = ' +
          'current_database())',
      );
      const deadline = Date.now() + 5_000;
      let taken = await driver.tryAdvisoryLock('sync:killed');
      while (!taken && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        taken = await driver.tryAdvisoryLock('sync:killed');
      }
      expect(taken).toBeDefined();
      await taken!.release();
      while (!held!.lost && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(held!.lost).toBe(true); // the holder can tell its lock is gone
      await held!.release(); // and releasing it does not throw
    } finally {
      await victim.close();
    }
  });
});
