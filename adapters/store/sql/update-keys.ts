/**
 * Update ids as the site numbers them (the update_keys table): result rows are indexed by update on the number, not on
 * the 36-character id (see the migration that made the table). A store process remembers the numbers it has seen, so
 * storing a result set looks up only the ids of updates new to it — in practice, those of a new catalog's first sets.
 *
 * A number learned inside a transaction is kept apart until that transaction commits: after a rollback, SQLite gives
 * the same number to the next id inserted, and a remembered one would then name another update.
 *
 * On PostgreSQL several processes store sets at once, each in a transaction holding many sets: numbering new ids
 * inside them deadlocked (two batches' sets name overlapping ids in different orders, measured with two workers).
 * There the ids are numbered by statements of their own (autocommit), each holding nothing else and inserting in
 * catalog order — the same order in every process scanning with the same catalog — and retried when PostgreSQL still
 * reports a deadlock (two catalogs in service at once may order ids differently).
 */
import { LRUCache } from 'lru-cache';
import { PatchscanError } from '../../../engine/errors.js';
import type { SqlExecutor } from './driver.js';

/** Ids looked up or inserted per statement (well under SQLite's and PostgreSQL's bound-parameter limits). */
const CHUNK = 500;

export class UpdateKeys {
  private constructor(
    private readonly committed: LRUCache<string, number>,
    private readonly pending: Map<string, number> | undefined,
  ) {}

  /** A process's memory of committed numbers; `max` ids (a catalog holds a few hundred thousand at most). */
  static create(max = 1_000_000): UpdateKeys {
    return new UpdateKeys(new LRUCache<string, number>({ max }), undefined);
  }

  /** The view of one transaction: what it learns is remembered once {@link commit} is called. */
  forTransaction(): UpdateKeys {
    return new UpdateKeys(this.committed, new Map());
  }

  /** Remembers what this transaction learned (call after its commit). */
  commit(): void {
    if (this.pending === undefined) return;
    for (const [id, key] of this.pending) this.committed.set(id, key);
    this.pending.clear();
  }

  private get(id: string): number | undefined {
    return this.pending?.get(id) ?? this.committed.get(id);
  }

  /**
   * The numbers of `ids` (in their order), inserting those the site has not numbered yet — in the order given, so that
   * rows written in catalog order get increasing numbers. `db` is the transaction that writes the rows; with
   * `autocommit` (PostgreSQL), new ids are numbered by statements of their own on it instead.
   */
  async keysOf(db: SqlExecutor, ids: readonly string[], autocommit?: SqlExecutor): Promise<number[]> {
    const missing: string[] = [];
    const seen = new Set<string>();
    for (const id of ids) {
      if (this.get(id) !== undefined || seen.has(id)) continue;
      seen.add(id);
      missing.push(id);
    }
    // Numbers committed by their own statements are final at once; those of the caller's transaction only with it.
    const on = autocommit ?? db;
    const learn = autocommit !== undefined ? undefined : this.pending;
    for (let k = 0; k < missing.length; k += CHUNK) {
      const chunk = missing.slice(k, k + CHUNK);
      const marks = chunk.map(() => '(?)').join(', ');
      // Another process may number the same id meanwhile: its number is the one taken.
      await withDeadlockRetry(() =>
        on.run(`INSERT INTO update_keys (update_id) VALUES ${marks} ON CONFLICT (update_id) DO NOTHING`, chunk),
      );
      const rows = await on.all<{ id: number; update_id: string }>(
        `SELECT id, update_id FROM update_keys WHERE update_id IN (${chunk.map(() => '?').join(', ')})`,
        chunk,
      );
      for (const r of rows) (learn ?? this.committed).set(r.update_id, r.id);
    }
    return ids.map((id) => {
      const key = this.get(id);
      // Never expected: every id was inserted or found above.
      if (key === undefined) throw new PatchscanError('INTERNAL', `update ${id} has no number in update_keys after numbering it`);
      return key;
    });
  }
}

/** PostgreSQL's SQLSTATE for a deadlock: the statement was rolled back, and running it again is safe. */
const DEADLOCK = '40P01';

async function withDeadlockRetry<T>(statement: () => Promise<T>, tries = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await statement();
    } catch (e) {
      if ((e as { code?: unknown }).code !== DEADLOCK || attempt >= tries) throw e;
      await new Promise((r) => setTimeout(r, 10 * attempt));
    }
  }
}
