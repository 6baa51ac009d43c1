/**
 * SQL derived from the counting rule (engine/scanner/counting.ts), so that what the store filters and sums is what the
 * rule says: a filter on a stored row's (state, superseded code) is built from the rule's own table, and a machine's
 * compliance from the result set's counts the rule produced when the set was written.
 */
import { outcomesIn, type CountBucket } from '../../../engine/scanner/counting.js';

/**
 * `(state = ? AND superseded = ?) OR …` over the given columns for every outcome the rule counts in one of
 * `buckets`; `FALSE`-equivalent `1 = 0` when none is.
 */
export function bucketFilter(
  buckets: readonly CountBucket[],
  stateColumn: string,
  supersededColumn: string,
): { sql: string; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  for (const b of buckets) {
    for (const o of outcomesIn(b)) {
      parts.push(`(${stateColumn} = ? AND ${supersededColumn} = ?)`);
      params.push(o.state, o.supersedence);
    }
  }
  return { sql: parts.length ? `(${parts.join(' OR ')})` : '(1 = 0)', params };
}

/** 1 when a result set (alias `r`) counts as compliant (counting.ts isCompliant), else 0. */
export const compliantSql = (r: string): string => `CASE WHEN ${r}.required = 0 AND ${r}.possibly_superseded = 0 THEN 1 ELSE 0 END`;
