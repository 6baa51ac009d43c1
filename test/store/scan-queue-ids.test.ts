/**
 * SQLite scan job ids are never used twice. With a plain INTEGER PRIMARY KEY a new job took the largest id + 1, so
 * after the newest jobs ended the next upload's job reused an id a worker could still name — and failing "its" job
 * (serve giving back the batch of a scan thread that died just after storing it, a worker whose lease ran out) then
 * counted a try against the new job, or completing it deleted the new job (its scan lost). Found by review.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../adapters/store/sqlite/migrations.js';
import { openSqliteStore } from '../../adapters/store/sqlite/open.js';
import { tempDir } from '../helpers/tmp.js';
import { sqliteMigratedTo } from '../helpers/migrated-to.js';

describe('SQLite scan job ids', () => {
  it('a job that ended is never confused with the next one: failing or completing it again touches nothing', async () => {
    const file = join(tempDir(), 'site.db');
    const store = openSqliteStore(file);
    try {
      await store.enroll('PC-1');
      await store.enroll('PC-2');
      const [a, b] = [(await store.client('PC-1'))!.id, (await store.client('PC-2'))!.id];
      await store.enqueueScan(a, 'normal', 'upload');
      await store.enqueueScan(b, 'normal', 'upload');
      const batch = await store.takeScans(10, 300);
      expect(batch).toHaveLength(2);
      // The batch is stored and its jobs end (a scan thread's last transaction) ...
      await store.transaction(async (tx) => tx.completeScans(batch));
      // ... an upload queues the next scan ...
      await store.enqueueScan(b, 'normal', 'upload');
      // ... and the batch is given back (the thread died before saying it was done), or completed again.
      for (const job of batch) await store.failScan(job, 'the scan queue thread stopped before its batch was stored');
      await store.transaction(async (tx) => tx.completeScans(batch));

      const status = await store.queueStatus();
      expect(status.queued.normal).toBe(1); // the upload's job is still there ...
      const [next] = await store.takeScans(10, 300);
      expect(next).toBeDefined();
      expect(batch.map((j) => j.id)).not.toContain(next.id); // ... under an id of its own ...
      expect(next.retries).toBe(0); // ... with no try counted against it
    } finally {
      await store.close();
    }
  });

  it('the migration keeps every queued job, leases and tries included, and new ids continue past the largest', async () => {
    const file = join(tempDir(), 'old.db');
    const before = MIGRATIONS.length - 1;
    const db = sqliteMigratedTo(file, before);
    db.prepare("INSERT INTO clients (name, token_hash, enrolled_at) VALUES ('PC-1', 'h1', '2026-11-01T00:00:00Z')").run();
    const insert = db.prepare(
      'INSERT INTO scan_queue (id, client_id, priority, enqueued_at, reason, leased_until, retries, not_before, leased_by) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)',
    );
    insert.run(7, 1, '2026-11-01T00:00:00Z', 'upload', null, 0, null, null);
    insert.run(9, 0, '2026-11-01T00:00:01Z', 'rescan', '2099-01-01T00:00:00Z', 2, '2026-11-01T00:00:05Z', 'host/1/2');
    const rows = (d: Database.Database): unknown[] => d.prepare('SELECT * FROM scan_queue ORDER BY id').all();
    const kept = rows(db);
    db.close();

    const store = openSqliteStore(file);
    try {
      expect(await store.schemaVersion()).toBe(MIGRATIONS.length);
      await store.enqueueScan(1, 'expedited', 'upload'); // PC-1 has a waiting normal job: an expedited one replaces it
    } finally {
      await store.close();
    }
    const after = new Database(file, { readonly: true });
    try {
      const now = rows(after) as { id: number }[];
      expect(now.filter((r) => r.id === 9)).toEqual(kept.filter((r) => (r as { id: number }).id === 9)); // leased: untouched
      expect(now.map((r) => r.id)).toEqual([9, 10]); // the waiting job 7 was replaced by a new one past the largest id
    } finally {
      after.close();
    }
  });
});
