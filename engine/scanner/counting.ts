/**
 * The counting rule: how one machine's outcome of one update is counted by every report — the CLI's `report` and
 * `compliance`, HTTP /v1, CSV and JSONL exports, the batch summary of `patchscan scan`, the web console and the
 * demo (docs/semantics.md, "Counting"). It is a table over (state, supersedence), so SQL can be derived from it
 * (adapters/store/sql/counting-sql.ts) and a test checks that the store's figures agree with it.
 *
 * "Required" counts an update that is Required and not superseded by an update Installed or Required on that
 * machine. A Required update that is superseded is counted as `superseded`; one whose superseding update is
 * Unknown there as `possiblySuperseded` (it may be missing, or replaced: not known). Installed, NotApplicable and
 * Unknown outcomes count as their state whatever their supersedence (their rows still show it).
 */
import type { UpdateState } from './machine-scan.js';
import type { SupersedenceCode } from './supersedence.js';

export type CountBucket = 'installed' | 'required' | 'superseded' | 'possiblySuperseded' | 'notApplicable' | 'unknown';

export const COUNT_BUCKETS: readonly CountBucket[] = [
  'installed',
  'required',
  'superseded',
  'possiblySuperseded',
  'notApplicable',
  'unknown',
];

/** How many outcomes fall in each bucket (they add up to the outcomes counted). */
export type OutcomeCounts = Record<CountBucket, number>;

/** State codes in the order of fleet/result-set.ts's STATES. */
const STATE_CODES: Readonly<Record<UpdateState, number>> = { Installed: 0, Required: 1, NotApplicable: 2, Unknown: 3 };
const STATE_OF_CODE: readonly UpdateState[] = ['Installed', 'Required', 'NotApplicable', 'Unknown'];

/** The rule, by state code × 3 + supersedence code. */
const RULE: readonly CountBucket[] = [
  /* Installed     */ 'installed',
  'installed',
  'installed',
  /* Required      */ 'required',
  'superseded',
  'possiblySuperseded',
  /* NotApplicable */ 'notApplicable',
  'notApplicable',
  'notApplicable',
  /* Unknown       */ 'unknown',
  'unknown',
  'unknown',
];

/** The bucket of an outcome (state code 0..3 as fleet/result-set.ts packs it, supersedence code of supersedence.ts). */
export function bucketOf(state: number, supersedence: number): CountBucket {
  // Checked apart: an out-of-range supersedence would index the next state's row of the table.
  const b = supersedence >= 0 && supersedence <= 2 ? RULE[state * 3 + supersedence] : undefined;
  if (b === undefined) throw new RangeError(`no outcome has state code ${state} and supersedence code ${supersedence}`);
  return b;
}

/** The same, from a row's fields (a stored row's `superseded` column is the supersedence code). */
export function countedAs(state: UpdateState | string, supersedence: number): CountBucket {
  const code = STATE_CODES[state as UpdateState];
  if (code === undefined) throw new RangeError(`no update state ${JSON.stringify(state)}`);
  return bucketOf(code, supersedence);
}

/** Adds one outcome to `counts`; returns its bucket. No allocation (the batch summary calls it per outcome). */
export function countOutcome(counts: OutcomeCounts, state: number, supersedence: number): CountBucket {
  const b = bucketOf(state, supersedence);
  counts[b]++;
  return b;
}

export function emptyCounts(): OutcomeCounts {
  return { installed: 0, required: 0, superseded: 0, possiblySuperseded: 0, notApplicable: 0, unknown: 0 };
}

/** Every (state, supersedence code) pair counted in `bucket`: what SQL filters and sums are built from. */
export function outcomesIn(bucket: CountBucket): { readonly state: UpdateState; readonly supersedence: SupersedenceCode }[] {
  const out: { state: UpdateState; supersedence: SupersedenceCode }[] = [];
  RULE.forEach((b, k) => {
    if (b === bucket) out.push({ state: STATE_OF_CODE[Math.floor(k / 3)]!, supersedence: (k % 3) as SupersedenceCode });
  });
  return out;
}

/**
 * A machine's outcome of several updates at once — every update of one KB (one per architecture or OS, as
 * Microsoft publishes them), every update fixing one CVE: the first of these buckets any of them is in. Needing one
 * of them makes the machine need the KB; "possibly" and "not known" come before "has it".
 */
export const COMBINED_PRECEDENCE: readonly CountBucket[] = [
  'required',
  'possiblySuperseded',
  'unknown',
  'superseded',
  'installed',
  'notApplicable',
];

/** The combined bucket of a machine's outcomes of several updates (see COMBINED_PRECEDENCE); undefined for none. */
export function combineBuckets(buckets: Iterable<CountBucket>): CountBucket | undefined {
  let best = COMBINED_PRECEDENCE.length;
  for (const b of buckets) best = Math.min(best, COMBINED_PRECEDENCE.indexOf(b));
  return COMBINED_PRECEDENCE[best];
}

/**
 * The buckets a list shows: rows of one state (or every state), with Required updates that are superseded left out
 * unless `showSuperseded` (they are counted either way). Possibly superseded ones are listed: they may be missing.
 */
export function listedBuckets(state: UpdateState | undefined, showSuperseded: boolean): CountBucket[] {
  const of: Record<UpdateState, CountBucket[]> = {
    Installed: ['installed'],
    Required: showSuperseded ? ['required', 'possiblySuperseded', 'superseded'] : ['required', 'possiblySuperseded'],
    NotApplicable: ['notApplicable'],
    Unknown: ['unknown'],
  };
  return state ? of[state] : COUNT_BUCKETS.filter((b) => showSuperseded || b !== 'superseded');
}

/**
 * A scanned machine is compliant when nothing is counted as Required and nothing as possibly superseded (a
 * Required update whose replacement is Unknown may still be missing: "not known" is not "compliant"). Unknown
 * outcomes alone do not make it non-compliant; reports show them next to it.
 */
export function isCompliant(c: Pick<OutcomeCounts, 'required' | 'possiblySuperseded'>): boolean {
  return c.required === 0 && c.possiblySuperseded === 0;
}
