/**
 * Update ids as the site numbers them (the update_keys table): result rows are indexed by update on the number, not on
 * the 36-character id (see the migration that made the table). Numbers are looked up, and new ids numbered, in the
 * transaction that writes the rows, and remembered only for that transaction: the sets of one batch share most of
 * their updates, so a batch looks each id up once. Nothing outlives the transaction, so nothing can go stale (a
 * rolled-back SQLite transaction's numbers are given again; a restored database renumbers).
 *
 * Numbering takes locks on PostgreSQL: two transactions numbering overlapping new ids in different orders deadlock
 * (measured with two workers, when each set of a batch numbered its own ids). A transaction that stores several sets
 * numbers every id of them first, in catalog order ({@link UpdateKeys.number}) — the same order in every process
 * scanning with the same catalog — before it takes any other lock of the batch.
 */
import { PatchscanError } from '../../../engine/errors.js';
import type { SqlExecutor } from './driver.js';

/** Ids looked up or inserted per statement (well under SQLite's and PostgreSQL's bound-parameter limits). */
const CHUNK = 500;

export class UpdateKeys {
  private readonly known = new Map<string, number>();

  /** Numbers `ids` not numbered yet, in the order given, and learns every id's number. */
  async number(db: SqlExecutor, ids: readonly string[]): Promise<void> {
    const ask = [...new Set(ids.filter((id) => !this.known.has(id)))];
    await this.learn(db, ask);
    const missing = ask.filter((id) => !this.known.has(id));
    for (let k = 0; k < missing.length; k += CHUNK) {
      const chunk = missing.slice(k, k + CHUNK);
      // Another transaction may number the same id meanwhile: its number is the one taken.
      await db.run(
        `INSERT INTO update_keys (update_id) VALUES ${chunk.map(() => '(?)').join(', ')} ON CONFLICT (update_id) DO NOTHING`,
        chunk,
      );
    }
    await this.learn(db, missing);
  }

  /** The numbers of `ids`, in their order (numbering the new ones). */
  async keysOf(db: SqlExecutor, ids: readonly string[]): Promise<number[]> {
    await this.number(db, ids);
    return ids.map((id) => {
      const key = this.known.get(id);
      // Never expected: every id was found or inserted above.
      if (key === undefined) throw new PatchscanError('INTERNAL', `update ${id} has no number in update_keys after numbering it`);
      return key;
    });
  }

  private async learn(db: SqlExecutor, ids: readonly string[]): Promise<void> {
    for (let k = 0; k < ids.length; k += CHUNK) {
      const chunk = ids.slice(k, k + CHUNK);
      const rows = await db.all<{ id: number; update_id: string }>(
        `SELECT id, update_id FROM update_keys WHERE update_id IN (${chunk.map(() => '?').join(', ')})`,
        chunk,
      );
      for (const r of rows) this.known.set(r.update_id, r.id);
    }
  }
}
