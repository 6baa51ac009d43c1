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
import type { Catalog } from '../../engine/catalog/catalog.js';
import { outcomeIndex } from '../../engine/fleet/result-set.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { UpdateRecord } from '../../engine/model.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { catalogOf, updateRecord } from '../helpers/update-record.js';

const G = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const titled = (title: string): UpdateRecord['localized'] => [{ language: 'en', title, description: '' }];
const INV = {
  schema: 'patchscan-inventory/1',
  computer: { name: 'T' },
  collectedAt: '2026-11-24T00:00:00Z',
  files: [],
  registry: [],
} as unknown as Inventory;

function scan(c: Catalog): { words: Uint32Array; reasonOf: Map<string, string> } {
  const { outcomes, reasons } = scanOutcomes(new Scanner(c), INV, { all: false, reasons: true });
  const reasonOf = new Map<string, string>();
  outcomes.forEach((w, k) => reasonOf.set(c.updateId(outcomeIndex(w)), reasons![k]));
  return { words: Uint32Array.from(outcomes).sort(), reasonOf };
}

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

/** The carry-over from `from` to `to` for INV, checked against a full scan of `to` (words and every reason). */
function carried(from: Catalog, to: Catalog): CatalogCarryOver {
  const co = CatalogCarryOver.between(1, from, to);
  if (co.refused !== undefined) return co;
  const before = scan(from);
  const after = scan(to);
  // As a site stores a set on its base: own and unsure rows worded again, every other row the stored one.
  const changes = co.carryChanges(INV, before.words, undefined, Number.POSITIVE_INFINITY)!;
  expect([...changes.words]).toEqual([...after.words]);
  const worded = new Map([...changes.own, ...changes.unsure].map((o) => [to.updateId(o.index), o.reason]));
  for (const [id, reason] of after.reasonOf) expect(worded.get(id) ?? before.reasonOf.get(id), id).toBe(reason);
  // Stored whole (CatalogCarryOver.carry): the same.
  const rows = Array.from(before.words, (w) => {
    const k = outcomeIndex(w);
    const id = from.updateId(k);
    return { update_index: k, update_id: id, revision_number: 1, state: 'Required', superseded: w & 3, reason: before.reasonOf.get(id)! };
  });
  for (const o of co.carry(INV, rows)!) expect(o.reason, to.updateId(o.index)).toBe(after.reasonOf.get(to.updateId(o.index)));
  return co;
}

describe('carry-over when supersedence-only updates change places', () => {
  it('refuses (a full rescan) when the superseder a kept reason names would no longer be the first', () => {
    const from = catalogOf([i, s1, s2, x(false)], 'a');
    const to = catalogOf([i, s2, s1, x(true)], 'b');
    // What a full scan says on each side: the first superseder in catalog order.
    expect(scan(from).reasonOf.get(G(1))).toBe('IsInstallable is absent (True by default); superseded by "S1" (Required)');
    expect(scan(to).reasonOf.get(G(1))).toBe('IsInstallable is absent (True by default); superseded by "S2" (Required)');
    expect(carried(from, to).refused).toMatch(/another order/);
  });

  it('carries the same change over, exactly, when the superseders keep their order', () => {
    const co = carried(catalogOf([i, s1, s2, x(false)], 'a'), catalogOf([i, s1, s2, x(true)], 'b'));
    expect(co.refused).toBeUndefined();
  });
});
