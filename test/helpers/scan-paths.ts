/**
 * One catalog and one machine through each scan path — the one-off scan, the fleet path (scanOutcomes on a reused
 * scanner: shared rule values, reused buffers) and the reference evaluator — as a map of UpdateId to state, so tests
 * can say the three agree.
 */
import type { Inventory, InventoryRegistryKey } from '../../engine/inventory/types.js';
import type { RuleNode, UpdateRecord } from '../../engine/model.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import { outcomeIndex, outcomeState } from '../../engine/fleet/result-set.js';
import { referenceScan } from '../reference/reference-evaluator.js';
import { loadedCatalogOf, updateRecord } from '../helpers/update-record.js';
import type { Catalog } from '../../engine/catalog/catalog.js';

export const uid = (k: number): string => `11111111-2222-3333-4444-${String(k).padStart(12, '0')}`;
export const rec = (k: number, rules: UpdateRecord['rules'], extra: Partial<UpdateRecord> = {}): UpdateRecord =>
  updateRecord({ updateId: uid(k), revisionId: k + 1, rules, ...extra });
export const leaf = (type: string, attrs: Record<string, string>, child?: RuleNode): RuleNode => ({
  kind: 'rule',
  type,
  family: 'base',
  attrs,
  ...(child ? { child } : {}),
});
export const inv = (extra: Partial<Inventory>, name = 'PC'): Inventory => ({
  schema: 'patchscan-inventory/1',
  computer: { name },
  collectedAt: '2026-11-30T00:00:00Z',
  ...extra,
});
export const key = (k: string, extra: Partial<InventoryRegistryKey> = {}): InventoryRegistryKey => ({ key: k, exists: true, ...extra });

export type States = Record<string, string>;
export const compile = (records: readonly UpdateRecord[]): Catalog => loadedCatalogOf(records, 'redteam');

/** Fleet path (scanOutcomes, all) on a given scanner. */
export function fleetStates(scanner: Scanner, i: Inventory): States {
  const c = scanner.catalog;
  const out: States = {};
  for (const w of scanOutcomes(scanner, i, { all: true, reasons: false }).outcomes) out[c.updateId(outcomeIndex(w))] = outcomeState(w);
  return out;
}
export function oneOffStates(c: Catalog, i: Inventory): States {
  const s = new Scanner(c);
  const out: States = {};
  for (const r of s.states(i)) out[c.updateId(r.index)] = r.state;
  return out;
}
export function refStates(records: readonly UpdateRecord[], i: Inventory): States {
  const out: States = {};
  for (const [id, r] of referenceScan(records, i)) out[id] = r.state;
  return out;
}
