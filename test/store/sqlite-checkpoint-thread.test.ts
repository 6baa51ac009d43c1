/**
 * The SQLite driver checkpoints the WAL on a thread of its own (adapters/store/sqlite/checkpointer.ts), not in the
 * writer's COMMIT. What a checkpoint does is visible in the database file alone: a copy of it without its -wal holds
 * exactly the rows checkpointed. Few enough pages are written here (~600) that the writer's own checkpoint (past
 * 1,000 pages by SQLite's default, 16,384 with the thread) never runs: what reaches the file, the thread put there.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { WalCheckpointer, WRITER_AUTOCHECKPOINT_PAGES } from '../../adapters/store/sqlite/checkpointer.js';
import { SqliteDriver } from '../../adapters/store/sqlite/driver.js';
import { tempDir } from '../helpers/tmp.js';

const require = createRequire(import.meta.url);
const ROWS = 20 * 100;

/** Writes ROWS rows of ~1 KiB in 20 transactions; returns the driver, still open. */
async function written(path: string, checkpoints: 'thread' | 'inline'): Promise<SqliteDriver> {
  const d = SqliteDriver.open(path, { checkpoints });
  await d.transaction((tx) => tx.run('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)'));
  for (let b = 0; b < 20; b++)
    await d.transaction(async (tx) => {
      for (let i = 0; i < 100; i++) await tx.run('INSERT INTO t (k, v) VALUES (?, ?)', [b * 100 + i, 'v'.repeat(1000)]);
    });
  return d;
}

/** The rows a copy of the database file alone (no -wal, no -shm) holds: what checkpoints have put there. */
function rowsInFile(path: string, into: string): number {
  mkdirSync(into);
  const copy = join(into, 'copy.db');
  copyFileSync(path, copy);
  expect(existsSync(`${copy}-wal`)).toBe(false);
  const db = new Database(copy, { readonly: true });
  try {
    const hasTable = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 't'").get() as { n: number };
    return hasTable.n === 0 ? 0 : (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('WAL checkpoints on the driver thread', () => {
  it('after the commits, every WAL frame is in the database file, checkpointed by the thread', async () => {
    const dir = tempDir();
    const path = join(dir, 'site.db');
    const d = await written(path, 'thread');
    try {
      expect(d.database.pragma('wal_autocheckpoint', { simple: true })).toBe(WRITER_AUTOCHECKPOINT_PAGES);
      const stats = await d.checkpointsSettled();
      expect(stats!.runs).toBeGreaterThan(0);
      expect(stats!.log).toBeGreaterThan(300); // the rows' pages went through the WAL …
      expect(stats!.checkpointed).toBe(stats!.log); // … and all of them are in the file
      expect(rowsInFile(path, join(dir, 'a'))).toBe(ROWS);
    } finally {
      await d.close();
    }
    // Closed: the database reads whole, and a commit after reopening starts the thread again.
    const again = SqliteDriver.open(path, { checkpoints: 'thread' });
    try {
      expect((await again.get<{ n: number }>('SELECT count(*) AS n FROM t'))!.n).toBe(ROWS);
      await again.transaction((tx) => tx.run('DELETE FROM t WHERE k < 10'));
      expect((await again.checkpointsSettled())!.runs).toBe(1);
    } finally {
      await again.close();
    }
  });

  it('inline (SQLite default), the same commits leave the rows in the WAL, not the file (the control)', async () => {
    const dir = tempDir();
    const path = join(dir, 'site.db');
    const d = await written(path, 'inline');
    try {
      expect(d.database.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      expect(await d.checkpointsSettled()).toBeUndefined();
      expect(rowsInFile(path, join(dir, 'a'))).toBe(0);
    } finally {
      await d.close();
    }
  });

  it('starts 100 ms after the first commit: by its timer, or by a later commit when nothing turned the event loop', async () => {
    const dir = tempDir();
    const d = SqliteDriver.open(join(dir, 'timer.db'), { checkpoints: 'thread' });
    try {
      await d.transaction((tx) => tx.run('CREATE TABLE t (k)'));
      expect(d.checkpointStats()).toMatchObject({ started: false, runs: 0 }); // a short command ends here
      await new Promise((r) => setTimeout(r, 250));
      expect(d.checkpointStats()!.started).toBe(true);
    } finally {
      await d.close();
    }
    const busy = SqliteDriver.open(join(dir, 'chain.db'), { checkpoints: 'thread' });
    try {
      // Transactions chained through promises only: the timer cannot fire until they end.
      const t = performance.now();
      let n = 0;
      while (performance.now() - t < 300)
        await busy.transaction((tx) => tx.run(n++ === 0 ? 'CREATE TABLE t (k)' : 'INSERT INTO t VALUES (1)'));
      expect(busy.checkpointStats()!.started).toBe(true);
    } finally {
      await busy.close();
    }
  });

  it('closed before its thread started, it settles at once and leaves the database whole', async () => {
    const path = join(tempDir(), 'early.db');
    const d = SqliteDriver.open(path, { checkpoints: 'thread' });
    await d.transaction((tx) => tx.run('CREATE TABLE t (k)'));
    await d.transaction((tx) => tx.run('INSERT INTO t VALUES (7)'));
    await d.close();
    expect(await d.checkpointsSettled()).toMatchObject({ started: false });
    const again = SqliteDriver.open(path);
    expect((await again.get<{ k: number }>('SELECT k FROM t'))!.k).toBe(7);
    await again.close();
  });

  it('a thread that cannot work is given up: the writer checkpoints at 1,000 pages again', async () => {
    const dir = tempDir();
    const writer = new Database(join(dir, 'w.db'));
    writer.pragma('journal_mode = WAL');
    try {
      // better-sqlite3 not where the thread is told to load it: the thread throws as it starts.
      const c = new WalCheckpointer({ path: join(dir, 'w.db'), sqliteModule: join(dir, 'no-such-module.js') }, writer);
      expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(WRITER_AUTOCHECKPOINT_PAGES);
      c.committed();
      await c.settled();
      await vi.waitFor(() => expect(c.last.gone).toBe(true));
      expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      c.committed(); // nothing to tell any more, and no error
      await c.close();
    } finally {
      writer.close();
    }
  });

  it('a thread whose checkpoints keep failing hands them to the writer, and takes them back once one succeeds', async () => {
    const dir = tempDir();
    const writer = new Database(join(dir, 'w.db'));
    writer.pragma('journal_mode = WAL');
    // The thread checkpoints a file that is not there yet: each try fails (as on a disk that is full), and the thread lives.
    const target = join(dir, 'later.db');
    const c = new WalCheckpointer({ path: target, sqliteModule: require.resolve('better-sqlite3') }, writer);
    const commit = async (): Promise<void> => {
      c.committed();
      await c.settled();
    };
    try {
      for (let i = 1; i <= 4; i++) {
        await commit();
        expect(c.last).toMatchObject({ failures: i, failing: false, gone: false });
        expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(WRITER_AUTOCHECKPOINT_PAGES);
      }
      await commit();
      expect(c.last).toMatchObject({ failures: 5, failing: true, gone: false, lastError: expect.stringMatching(/unable to open/) });
      expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      await commit(); // still failing: still the writer's
      expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      // The file is there again: the next checkpoint succeeds, and the writer leaves them to the thread.
      const made = new Database(target);
      made.pragma('journal_mode = WAL');
      made.close();
      await commit();
      expect(c.last).toMatchObject({ failures: 6, failing: false, gone: false });
      expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(WRITER_AUTOCHECKPOINT_PAGES);
      await c.close();
    } finally {
      writer.close();
    }
  });

  it('a checkpoint another connection holds the lock of is counted busy: no error, the writer not involved, the next one copies all', async () => {
    const dir = tempDir();
    const path = join(dir, 'busy.db');
    const writer = new Database(path);
    writer.pragma('journal_mode = WAL');
    writer.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
    const c = new WalCheckpointer({ path, sqliteModule: require.resolve('better-sqlite3') }, writer);
    let k = 0;
    const commit = async (): Promise<void> => {
      writer.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(k++, 'v'.repeat(1000));
      c.committed();
      await c.settled();
    };
    // Another process holds SQLite's checkpointer lock: byte 120 + 1 of the -shm file (os_unix.c: the WAL-index locks
    // start at 120; WAL_CKPT_LOCK is lock 1), as a checkpoint at work in that process would.
    const holder = spawn('python3', [
      '-c',
      'import fcntl, os, sys\n' +
        `fd = os.open(${JSON.stringify(`${path}-shm`)}, os.O_RDWR)\n` +
        'fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 121)\n' +
        'print("locked", flush=True)\n' +
        'sys.stdin.read()\n',
    ]);
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once('data', () => resolve());
        holder.once('exit', (code) => reject(new Error(`the lock holder exited (${code})`)));
        holder.once('error', reject); // no python3 (.ci/run installs it): the test fails saying so
      });
      for (let i = 1; i <= 6; i++) {
        await commit();
        // Busy is not failing: six in a row leave the checkpoints to the thread (five failures hand them to the writer).
        expect(c.last).toMatchObject({ runs: i, failures: i, failing: false, gone: false });
        expect(c.last.lastError).toBeUndefined();
        expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(WRITER_AUTOCHECKPOINT_PAGES);
      }
      holder.stdin.end(); // the lock goes with the process
      await new Promise((resolve) => holder.once('exit', resolve));
      await commit();
      expect(c.last).toMatchObject({ runs: 7, failures: 6, failing: false });
      // Every frame of the seven commits, the busy ones' included, copied by the one that ran.
      expect(c.last.log).toBeGreaterThan(7);
      expect(c.last.checkpointed).toBe(c.last.log);
      await c.close();
    } finally {
      holder.kill();
      writer.close();
    }
  });

  it('a database opened by a relative path is checkpointed there after the process changes directory', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'elsewhere'));
    const cwd = process.cwd();
    process.chdir(dir);
    let d: SqliteDriver;
    try {
      d = await written('relative.db', 'thread');
    } finally {
      process.chdir(join(dir, 'elsewhere')); // where a thread resolving 'relative.db' itself would find nothing
    }
    try {
      const stats = await d.checkpointsSettled();
      expect(stats).toMatchObject({ failures: 0, started: true });
      expect(rowsInFile(join(dir, 'relative.db'), join(dir, 'a'))).toBe(ROWS);
      expect(existsSync(join(dir, 'elsewhere', 'relative.db'))).toBe(false);
    } finally {
      process.chdir(cwd);
      await d.close();
    }
  });

  it('close() runs a transaction queued while it waits, then refuses later ones (STORE_UNAVAILABLE: 503)', async () => {
    const d = SqliteDriver.open(join(tempDir(), 'closing.db'));
    await d.transaction((tx) => tx.run('CREATE TABLE t (k)'));
    let release!: () => void;
    const inside = new Promise<void>((started) => {
      void d.transaction(async (tx) => {
        await tx.run('INSERT INTO t VALUES (1)');
        started();
        await new Promise<void>((r) => (release = r));
      });
    });
    await inside;
    const closing = d.close();
    // Queued after close() began, before the database closed: it runs, and is in the file.
    const late = d.transaction((tx) => tx.run('INSERT INTO t VALUES (2)'));
    release();
    await late;
    await closing;
    await expect(d.transaction((tx) => tx.run('INSERT INTO t VALUES (3)'))).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringMatching(/written after it was closed; nothing was written/),
    });
    const db = new Database(join(d.location), { readonly: true });
    try {
      expect(db.prepare('SELECT k FROM t ORDER BY k').all()).toEqual([{ k: 1 }, { k: 2 }]);
    } finally {
      db.close();
    }
  });

  it('the default is the thread; inline when asked; an in-memory database has no thread even when asked', async () => {
    const file = SqliteDriver.open(join(tempDir(), 'default.db'));
    try {
      await file.transaction((tx) => tx.run('CREATE TABLE t (k)'));
      const stats = await file.checkpointsSettled();
      expect(stats?.started).toBe(true);
      expect(stats?.runs).toBeGreaterThanOrEqual(1);
    } finally {
      await file.close();
    }
    const inline = SqliteDriver.open(join(tempDir(), 'inline.db'), { checkpoints: 'inline' });
    try {
      await inline.transaction((tx) => tx.run('CREATE TABLE t (k)'));
      expect(await inline.checkpointsSettled()).toBeUndefined();
    } finally {
      await inline.close();
    }
    const d = SqliteDriver.open(':memory:', { checkpoints: 'thread' });
    try {
      await d.transaction((tx) => tx.run('CREATE TABLE t (k)'));
      expect(await d.checkpointsSettled()).toBeUndefined();
    } finally {
      await d.close();
    }
  });
});
