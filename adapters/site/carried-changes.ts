/**
 * A carried-over result set as the store keeps it: its changes on a set stored whole (NewResultSet.base), not a copy.
 * After a 1 % catalog edit ~2 % of a set's rows differ (issue 14, item 4); copying the rest was most of a carry-over's
 * time and most of what a Patch Tuesday added to the database.
 *
 * The base is the set the outcomes were carried from, or that set's own base when it was stored on one (a base is
 * always stored whole: reading a set never goes through more than one). A row is the set's own when it is not exactly
 * the base row it would replace (same update revision at the index the catalogs' map gives it, state, supersedence,
 * reason); every row of an update id the earlier set already had its own rows for stays its own (what the base holds
 * for it is not read). Past {@link OWN_SHARE} of the rows, the set is stored whole and becomes a base itself, so that
 * changes do not pile up month after month.
 */
import type { ResultSetBase, ResultSetLayers, ResultUpdateRow } from '../store/port.js';

/** Above this share of own rows (and base rows dropped), a carried set is stored whole. */
export const OWN_SHARE = 0.25;

export interface CarriedFrom {
  /** The set the outcomes were carried from, its catalog, and its rows and layers (store.resultSetLayers). */
  readonly setId: number;
  readonly catalogId: number;
  readonly layers: ResultSetLayers;
  /** Per index of the old set's catalog, the index of the same update revision in the new one (-1: none). */
  readonly oldToNew: Int32Array;
  /**
   * Per index of the base's catalog, the index of the same update revision in the new one: `oldToNew` when the old set
   * is stored whole, else its base's map composed with `oldToNew` ({@link composeIndexMaps}).
   */
  readonly baseToNew: Int32Array;
}

/** The rows to store and the base to store them on, or undefined: store the set whole. */
export function changesOnBase(
  rows: readonly ResultUpdateRow[],
  from: CarriedFrom,
): { updates: ResultUpdateRow[]; base: ResultSetBase } | undefined {
  const old = from.layers.rows;
  const overridden = from.layers.base?.overridden;
  const byId = (list: readonly ResultUpdateRow[]): Map<string, ResultUpdateRow[]> => {
    const m = new Map<string, ResultUpdateRow[]>();
    for (const r of list) {
      const at = m.get(r.update_id);
      if (at) at.push(r);
      else m.set(r.update_id, [r]);
    }
    return m;
  };
  const before = byId(old);
  const after = byId(rows);
  const updates: ResultUpdateRow[] = [];
  const removed: string[] = [];
  const limit = rows.length * OWN_SHARE;
  const ids = new Set<string>([...after.keys(), ...before.keys(), ...(overridden ?? [])]);
  for (const id of ids) {
    const now = after.get(id) ?? [];
    if (overridden?.has(id) !== true && same(before.get(id) ?? [], now, from.oldToNew)) continue;
    if (now.length > 0) updates.push(...now);
    else removed.push(id);
    if (updates.length + removed.length > limit) return undefined;
  }
  const base = from.layers.base;
  return {
    updates,
    base: base
      ? { setId: base.setId, catalogId: base.catalogId, indexMap: from.baseToNew, removed }
      : { setId: from.setId, catalogId: from.catalogId, indexMap: from.baseToNew, removed },
  };
}

/** Whether a base's rows of one update, moved to the new catalog, are exactly the new ones. */
function same(before: readonly ResultUpdateRow[], now: readonly ResultUpdateRow[], oldToNew: Int32Array): boolean {
  if (before.length !== now.length) return false;
  for (const b of before) {
    const i = oldToNew[b.update_index] ?? -1;
    const n = now.find((r) => r.update_index === i);
    if (
      i < 0 ||
      !n ||
      n.revision_number !== b.revision_number ||
      n.state !== b.state ||
      n.superseded !== b.superseded ||
      n.reason !== b.reason
    )
      return false;
  }
  return true;
}

/** `first` then `second`: per index of the first map's source, the index `second` gives its image (-1: none). */
export function composeIndexMaps(first: Int32Array, second: Int32Array): Int32Array {
  const out = new Int32Array(first.length);
  for (let k = 0; k < first.length; k++) {
    const j = first[k]!;
    out[k] = j >= 0 ? (second[j] ?? -1) : -1;
  }
  return out;
}

/** Whether two index maps are the same (a pair of catalogs has one stored map; a set is stored on it only if it is ours). */
export function sameIndexMap(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}
