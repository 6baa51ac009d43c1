/**
 * scanOutcomes' results must not alias per-catalog scratch: results kept from one machine stay intact while other
 * machines are scanned — by the same scanner, by a second scanner over the same catalog, nested inside another
 * scanner's machine scan. (Guards the per-catalog scratch array outcome
 * words are gathered in before they are copied out.)
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { scanOutcomes, type OutcomeOptions } from '../../engine/fleet/scan-outcomes.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { allRulesCatalogArb, richInventoryArb } from '../reference/random-world.js';
import { compile } from '../helpers/scan-paths.js';

vi.setConfig({ testTimeout: 300_000 });

const OPTS: OutcomeOptions[] = [
  { all: false, reasons: false },
  { all: true, reasons: false },
  { all: false, reasons: true },
];

describe('scanOutcomes results are not aliased', () => {
  it('kept results survive later, parallel-scanner and nested scans', () => {
    fc.assert(
      fc.property(allRulesCatalogArb, fc.array(richInventoryArb, { minLength: 2, maxLength: 5 }), (records, invs) => {
        const c = compile(records);
        const s1 = new Scanner(c);
        const s2 = new Scanner(c);
        for (const o of OPTS) {
          const want = invs.map((i) => scanOutcomes(new Scanner(c), i, o));
          const kept = invs.map((i, k) => (k % 2 === 0 ? scanOutcomes(s1, i, o) : scanOutcomes(s2, i, o)));
          // nested: a scan of machine 0 on s2 inside s1's machine scan of machine 1
          const nested = s1.withMachineScan(invs[1], () => scanOutcomes(s2, invs[0], o));
          const again = invs.map((i) => scanOutcomes(s1, i, o));
          expect(kept).toEqual(want);
          expect(again).toEqual(want);
          expect(nested).toEqual(want[0]);
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 200) },
    );
  });
});
