/**
 * How a carried-over result set is stored (catalog-carry-over.ts carryChanges; the store's NewResultSet.base): as its
 * changes on a set stored whole, not as a copy. After a 1 % catalog edit a few % of a set's rows differ (issue 14,
 * item 4); copying the rest was most of a carry-over's time and most of what a Patch Tuesday added to the database.
 *
 * The base is the set the outcomes were carried from, or that set's own base when it was stored on one (a base is
 * always stored whole: reading a set never goes through more than one). Every outcome of an update id is the set's own
 * when one of them is not exactly the base row it replaces — the same update revision at the index the catalogs' map
 * gives it, the same state and supersedence, and a stored reason that is still exact (the update and everything its
 * reason follows unaffected by the edit) — or when the earlier set had its own rows for that id (what the base holds
 * for it is not read). Past {@link OWN_SHARE} of the rows, the set is stored whole and becomes a base itself, so that
 * changes do not pile up month after month.
 */

/** Above this share of own rows (and base rows dropped), a carried set is stored whole. */
export const OWN_SHARE = 0.25;

/** `first` then `second`: per index of the first map's source, the index `second` gives its image (-1: none). */
export function composeIndexMaps(first: Int32Array, second: Int32Array): Int32Array {
  const out = new Int32Array(first.length);
  for (let k = 0; k < first.length; k++) {
    const j = first[k]!;
    out[k] = j >= 0 ? (second[j] ?? -1) : -1;
  }
  return out;
}
