/**
 * The hand-written fleet msgpack writer, random sets: every low-4-bit outcome value (all 16, including supersedence
 * code 3 that no scan produces), with and without reasons, random unicode reasons and names, several sets per
 * writer (buffer growth between sets). Decoded by a standard decoder, it must equal what a generic encoder writes.
 */
import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { FleetMsgpackWriter } from '../../adapters/scan-output/fleet-msgpack.js';
import { outcomeIndex, outcomeState, outcomeSupersedence, ResultSet } from '../../engine/fleet/result-set.js';
import { compile, rec } from '../helpers/scan-paths.js';

const catalog = compile(Array.from({ length: 40 }, (_, k) => rec(k, {})));
const generic = new Packr({ useRecords: false });
const decode = (b: Uint8Array): unknown[] => new Unpackr({ useRecords: false }).unpackMultiple(b) as unknown[];

describe('fleet msgpack writer ≡ generic encoder (random sets)', () => {
  it('decodes equal to the objects and to the generic encoding decoded', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            id: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
            words: fc.array(fc.tuple(fc.integer({ min: 0, max: 39 }), fc.integer({ min: 0, max: 15 })), { maxLength: 40 }),
            reasons: fc.option(fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { maxLength: 40 }), { nil: undefined }),
            computer: fc.string({ unit: 'grapheme', maxLength: 40 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        (sets) => {
          const w = new FleetMsgpackWriter(catalog);
          const want: unknown[] = [];
          const bytes: Buffer[] = [];
          for (const s of sets) {
            const outcomes = Uint32Array.from(s.words, ([i, low]) => (i << 4) | low);
            const reasons = s.reasons && Array.from(outcomes, (_, k) => s.reasons![k % Math.max(1, s.reasons!.length)] ?? '');
            const set = new ResultSet({ id: s.id, shared: true, outcomes, ...(reasons ? { reasons } : {}) });
            w.resultSet(set);
            const obj = {
              resultSet: s.id,
              updates: Array.from(outcomes, (x, k) => [
                catalog.updateId(outcomeIndex(x)),
                outcomeState(x),
                [false, true, null, false][outcomeSupersedence(x)],
                ...(reasons ? [reasons[k]] : []),
              ]),
            };
            want.push(obj);
            bytes.push(generic.pack(obj));
            w.machine(s.computer, 'src', s.id);
            const m = { computer: s.computer, source: 'src', resultSet: s.id };
            want.push(m);
            bytes.push(generic.pack(m));
          }
          const out = w.take();
          expect(decode(out)).toEqual(want);
          // generic Packr writes map16 headers for objects: compare what the generic bytes decode to as well
          expect(decode(out)).toEqual(decode(Buffer.concat(bytes)));
        },
      ),
      { numRuns: 500 },
    );
  });
});
