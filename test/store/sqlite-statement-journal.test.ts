/**
 * A SQLite site stores result rows without temp files: a multi-row INSERT inside a transaction keeps a statement
 * journal (the first copy of every page it changes, in case it fails halfway), and in SQLite's default temp store
 * that journal is a file in /var/tmp, unlinked at once and written page by page. Storing 300 carried result sets wrote
 * ~34,000 pages there (strace), ~10 % of a catalog change's queue run. The site's write connection keeps them in
 * memory (open.ts). Checked where it shows: the journal stays open until the transaction ends, so inside one the
 * process's open files (Linux's /proc/self/fd) would list it — and do, with that setting taken out of open.ts.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewResultSet, SiteStore } from '../../adapters/store/port.js';
import { openSqliteStore } from '../../adapters/store/sqlite/open.js';
import { tempDir } from '../helpers/tmp.js';

/** SQLite names its temp files etilqs_…; open ones show as "(deleted)" links under /proc/self/fd. */
function openTempFiles(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.includes('etilqs_')) out.push(target);
    } catch {
      // closed meanwhile (the readdir's own fd)
    }
  }
  return out;
}

/** A set of 2,000 rows with reasons: once many sets of the same updates are stored, each of its INSERTs changes pages all over the index by update. */
function bigSet(catalogId: number, fingerprint: string): NewResultSet {
  return {
    catalogId,
    fingerprint,
    counts: { installed: 2000, required: 0, superseded: 0, possiblySuperseded: 0, notApplicable: 0, unknown: 0 },
    updates: Array.from({ length: 2000 }, (_, k) => ({
      update_index: k,
      update_id: `00000000-0000-0000-0000-${String(k).padStart(12, '0')}`,
      revision_number: 100 + k,
      state: 'Installed',
      superseded: 0,
      reason: `IsInstalled is True: file C:\\Windows\\System32\\drivers\\example${k}.sys has version 10.0.${k}.1 (needs ≥ 10.0.${k}.0)`,
    })),
    groups: [],
  };
}

describe('storing result rows in a SQLite site', () => {
  const stores: SiteStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  it('opens no temp file in a transaction whose statement journals are in memory, and one in a transaction without', async () => {
    const store = openSqliteStore(join(tempDir(), 'site.db'));
    stores.push(store);
    const catalogId = await store.addCatalog({
      sha256: 'a'.repeat(64),
      source: 'test',
      path: '/a.pscat',
      revisions: 2000,
      signer: null,
      signed_at: null,
    });
    // Sets of the same updates stored before: a new set's rows then land all over the index by update, as on a site.
    for (let k = 0; k < 30; k++) await store.addResultSet(bigSet(catalogId, `earlier ${k}`));
    const storeTwo = (names: [string, string], statementJournals?: 'memory'): Promise<{ ids: number[]; during: string[] }> =>
      store.transaction(
        async (s) => {
          const ids = [await s.addResultSet(bigSet(catalogId, names[0])), await s.addResultSet(bigSet(catalogId, names[1]))];
          return { ids, during: openTempFiles() };
        },
        { durability: 'relaxed', ...(statementJournals && { statementJournals }) },
      );
    const inMemory = await storeTwo(['one', 'two'], 'memory');
    expect(inMemory.during).toEqual([]);
    const inFiles = await storeTwo(['three', 'four']);
    expect(inFiles.during.length).toBeGreaterThan(0);
    for (const id of [...inMemory.ids, ...inFiles.ids]) expect(await store.resultUpdates(id)).toHaveLength(2000);
  });
});
