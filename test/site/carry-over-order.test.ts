/**
 * A kept reason names the first of an update's superseders in catalog order: when superseders whose own state is not
 * decided again (supersedence-only updates) change places, the stored reason names the wrong one. Catalogs built from
 * records without RevisionIds (third-party packages, `catalog import --package`) keep their updates in the order
 * imported, so unchanged updates can change places. Found by a red-team pass (a helper session, 2026-12-01): the carry-over
 * kept `superseded by "S1"` where a full scan says `superseded by "S2"`. The carry-over now refuses such a change
 * (a full rescan), and still carries over the same change with the superseders in their old order.
 */
import { describe, expect, it } from 'vitest';
import { CatalogCarryOver } from '../../adapters/site/catalog-carry-over.js';
import type { UpdateRecord } from '../../engine/model.js';
import { differences, fullScan } from '../helpers/carry-over-diff.js';
import { inv } from '../helpers/scan-paths.js';
import { catalogOf, updateRecord } from '../helpers/update-record.js';
import type { Catalog } from '../../engine/catalog/catalog.js';

const G = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const titled = (title: string): UpdateRecord['localized'] => [{ language: 'en', title, description: '' }];
const INV = inv({ files: [], registry: [] }, 'T');

/** The reason a full scan of `c` gives update `id` on INV. */
const reasonOf = (c: Catalog, id: string): string | undefined => fullScan(c, INV).rows.find((r) => r.update_id === id)?.reason;

// No RevisionId (0): ordered as given. S1 and S2 both supersede I; X supersedes S1 and S2 and changes, so S1 and S2
// are supersedence-only updates and I is not affected at all.
const i = updateRecord({ updateId: G(1), revisionId: 0, localized: titled('I') });
const s1 = updateRecord({ updateId: G(2), revisionId: 0, supersedes: [G(1)], localized: titled('S1') });
const s2 = updateRecord({ updateId: G(3), revisionId: 0, supersedes: [G(1)], localized: titled('S2') });
const x = (installed: boolean): UpdateRecord =>
  updateRecord({
    updateId: G(4),
    revisionId: 0,
    supersedes: [G(2), G(3)],
    rules: { IsInstalled: { kind: 'const', value: installed } },
    localized: titled('X'),
  });

describe('carry-over when supersedence-only updates change places', () => {
  it('refuses (a full rescan) when the superseder a kept reason names would no longer be the first', () => {
    const from = catalogOf([i, s1, s2, x(false)], 'a');
    const to = catalogOf([i, s2, s1, x(true)], 'b');
    // What a full scan says on each side: the first superseder in catalog order.
    expect(reasonOf(from, G(1))).toBe('IsInstallable is absent (True by default); superseded by "S1" (Required)');
    expect(reasonOf(to, G(1))).toBe('IsInstallable is absent (True by default); superseded by "S2" (Required)');
    expect(CatalogCarryOver.between(1, from, to).refused).toMatch(/another order/);
  });

  it('carries the same change over, exactly, when the superseders keep their order', () => {
    const from = catalogOf([i, s1, s2, x(false)], 'a');
    const to = catalogOf([i, s1, s2, x(true)], 'b');
    expect(CatalogCarryOver.between(1, from, to).refused).toBeUndefined();
    // Both ways a site stores a carried set (carryChanges, carry) against a full scan: every state, supersedence, reason.
    expect(differences(from, to, [INV])).toEqual([]);
  });
});
