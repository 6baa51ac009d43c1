/**
 * A result set's stats (engine/fleet/result-set.ts), which fleet summaries add up, count every outcome by the counting
 * rule (engine/scanner/counting.ts) and list the updates it counts as Required, in the set's order: compared with the
 * rule applied outcome by outcome on random sets of every state and supersedence.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outcomeIndex, outcomeStateCode, outcomeSupersedence, packOutcome, ResultSet, STATES } from '../../engine/fleet/result-set.js';
import { bucketOf, emptyCounts } from '../../engine/scanner/counting.js';
import type { SupersedenceCode } from '../../engine/scanner/supersedence.js';

const outcome = fc
  .tuple(fc.nat({ max: 2 ** 20 }), fc.constantFrom(...STATES), fc.constantFrom<SupersedenceCode>(0, 1, 2))
  .map(([index, state, sup]) => packOutcome(index, state, sup));

describe('result set stats', () => {
  it('count every outcome by the counting rule and list the Required ones in order', () => {
    fc.assert(
      fc.property(fc.array(outcome, { maxLength: 300 }), (words) => {
        const set = new ResultSet({ id: 1, shared: false, outcomes: Uint32Array.from(words) });
        const counts = emptyCounts();
        const required: number[] = [];
        for (const w of words) {
          const b = bucketOf(outcomeStateCode(w), outcomeSupersedence(w));
          counts[b]++;
          if (b === 'required') required.push(outcomeIndex(w));
        }
        expect(set.stats.counts).toEqual(counts);
        expect(Array.from(set.stats.required)).toEqual(required);
      }),
      { numRuns: 300 },
    );
  });

  it('a word the counting rule has no bucket for (Unknown with supersedence code 3) is refused, as the rule refuses it', () => {
    const set = new ResultSet({ id: 1, shared: false, outcomes: Uint32Array.of(packOutcome(3, 'Required', 0), (5 << 4) | (3 << 2) | 3) });
    expect(() => set.stats).toThrow(RangeError);
  });

  it('the counting rule has no bucket for a supersedence code past 2, whatever the state', () => {
    for (let state = 0; state < 4; state++) expect(() => bucketOf(state, 3), `state ${state}`).toThrow(RangeError);
    expect(() => bucketOf(1, -1)).toThrow(RangeError);
    expect(bucketOf(1, 0)).toBe('required');
  });
});
