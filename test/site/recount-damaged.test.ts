/**
 * A stored row the recount of groups cannot count — an update index past its catalog, a state no outcome has: a
 * damaged database — leaves that one set marked (out of the group reports, as a set whose catalog cannot be read is)
 * and says so; every other marked set is still recounted (adapters/site/result-groups.ts, recountStaleGroups).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { recountStaleGroups } from '../../adapters/site/result-groups.js';
import { scannedSite } from '../helpers/scanned-site.js';
import { tempDir } from '../helpers/tmp.js';

it.each([
  ['an update index past the catalog', 'update_index = 999999', /no update has index 999999 in this catalog/],
  ['a state no outcome has', "state = 'Bogus'", /no update state "Bogus"/],
])('a row with %s leaves its set marked and the others recounted', async (_, damage, message) => {
  const dir = tempDir();
  const { site } = await scannedSite(dir, { clients: 3, admin: 'psa_admin-token-for-the-recount-test-000000' });
  try {
    const db = new Database(join(dir, 'patchscan.db'));
    const sets = (db.prepare('SELECT id FROM result_sets ORDER BY id').all() as { id: number }[]).map((r) => r.id);
    expect(sets.length).toBeGreaterThanOrEqual(2);
    const row = db.prepare('SELECT set_id, update_index FROM result_updates ORDER BY set_id, update_index LIMIT 1').get() as {
      set_id: number;
      update_index: number;
    };
    const damaged = row.set_id;
    db.prepare(`UPDATE result_updates SET ${damage} WHERE set_id = ? AND update_index = ?`).run(damaged, row.update_index);
    db.prepare('UPDATE result_sets SET groups_stale = 1').run();
    db.close();

    const lines: string[] = [];
    expect(await recountStaleGroups(site.store, site.catalogsDir, (l) => lines.push(l))).toEqual({
      recounted: sets.length - 1,
      left: 1,
    });
    expect(lines.join('\n')).toMatch(new RegExp(`result set ${damaged} keeps counts of the old counting rule`));
    expect(lines.join('\n')).toMatch(message);
    expect((await site.store.staleGroupSets()).map((s) => s.id)).toEqual([damaged]);
  } finally {
    await site.close();
  }
});
