/**
 * The default batch output's byte writer against the obvious one: random result sets (every outcome a scan makes,
 * with and without reasons), random unicode names and sources (lone surrogates too), sets named by several machines,
 * `--all` on and off, the bytes taken at random points. Each line must be exactly `JSON.stringify` of the object the
 * documented fields give (docs/batch-output.md), built here from the outcomes by the counting rule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MachineLinesWriter } from '../../adapters/scan-output/machine-lines.js';
import { outcomeIndex, outcomeState, outcomeSupersedence, ResultSet } from '../../engine/fleet/result-set.js';
import type { ScannedMachine } from '../../engine/pool/protocol.js';
import { compile, rec } from '../helpers/scan-paths.js';

// KBs of every shape a catalog holds: none, digits, and text a JSON string must escape.
const KBS = ['', '5034441', '12', 'a"b\\c', 'é\u2028'];
const catalog = compile(Array.from({ length: 40 }, (_, k) => rec(k, {}, { kb: KBS[k % KBS.length] })));

/** What a line holds, written out from the outcome words by the counting rule, in the documented key order. */
function expected(computer: string, source: string, words: Uint32Array, reasons: string[] | undefined, all: boolean): string {
  const counts = { installed: 0, required: 0, superseded: 0, possiblySuperseded: 0, unknown: 0, notApplicable: 0 };
  const lists = { required: [] as object[], possiblySuperseded: [] as object[], unknown: [] as object[] };
  words.forEach((w, k) => {
    const state = outcomeState(w);
    const sup = outcomeSupersedence(w); // 0 none, 1 superseded, 2 possibly
    const item = {
      kb: catalog.kb(outcomeIndex(w)),
      updateId: catalog.updateId(outcomeIndex(w)),
      ...(reasons ? { reason: reasons[k] } : {}),
    };
    if (state === 'Installed') counts.installed++;
    else if (state === 'NotApplicable') counts.notApplicable++;
    else if (state === 'Unknown') {
      counts.unknown++;
      lists.unknown.push(item);
    } else if (sup === 1) counts.superseded++;
    else if (sup === 2) {
      counts.possiblySuperseded++;
      lists.possiblySuperseded.push(item);
    } else {
      counts.required++;
      lists.required.push(item);
    }
  });
  const { notApplicable, ...rest } = counts;
  return JSON.stringify({ computer, source, counts: all ? { ...rest, notApplicable } : rest, ...lists });
}

const machine = (computer: string, source: string, set: ResultSet): ScannedMachine =>
  ({ computer, source, resultSet: set }) as unknown as ScannedMachine;

describe('machine lines: byte writer ≡ JSON.stringify of the documented object (random sets)', () => {
  it('writes every line byte for byte as the obvious encoder, whatever the chunks it is taken in', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            // low bits: state 0..3 << 2 | supersedence 0..2 (3 is no outcome a scan makes)
            words: fc.array(fc.tuple(fc.integer({ min: 0, max: 39 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 })), {
              maxLength: 150,
              size: 'medium', // counts of two and three digits too
            }),
            reasons: fc.option(fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { minLength: 1, maxLength: 20 }), { nil: undefined }),
            shared: fc.boolean(),
            machines: fc.array(fc.tuple(fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ maxLength: 20 }), fc.boolean()), {
              minLength: 1,
              maxLength: 4,
            }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.boolean(),
        (sets, all) => {
          const w = new MachineLinesWriter(catalog, { all });
          const want: string[] = [];
          const taken: Buffer[] = [];
          sets.forEach((s, id) => {
            const outcomes = Uint32Array.from(s.words, ([i, state, sup]) => ((i << 4) | (state << 2) | sup) >>> 0);
            const reasons = s.reasons && Array.from(outcomes, (_, k) => s.reasons![k % s.reasons!.length]);
            const set = new ResultSet({ id, shared: s.shared, outcomes, ...(reasons ? { reasons } : {}) });
            for (const [computer, source, takeAfter] of s.machines) {
              w.machine(machine(computer, source, set));
              want.push(`${expected(computer, source, outcomes, reasons, all)}\n`);
              if (takeAfter) taken.push(Buffer.from(w.take()));
            }
          });
          taken.push(Buffer.from(w.take()));
          expect(Buffer.concat(taken).toString('utf8')).toBe(want.join(''));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a set with an outcome no scan makes is refused before a byte of its line is written', () => {
    const w = new MachineLinesWriter(catalog, { all: false });
    const good = new ResultSet({ id: 1, shared: true, outcomes: Uint32Array.of((3 << 4) | (1 << 2)) });
    w.machine(machine('A', 'a', good));
    const before = w.size;
    const bad = new ResultSet({ id: 2, shared: true, outcomes: Uint32Array.of((3 << 4) | (1 << 2), (4 << 4) | 3) });
    expect(() => w.machine(machine('B', 'b', bad))).toThrow(RangeError);
    expect(w.size).toBe(before);
    w.machine(machine('C', 'c', good));
    const lines = Buffer.from(w.take()).toString('utf8').split('\n');
    expect(lines.map((l) => (l ? (JSON.parse(l) as { computer: string }).computer : ''))).toEqual(['A', 'C', '']);
  });

  it('a set whose lists do not match its counts (outcomes changed after counting) is refused before a byte, not written from stale places', () => {
    const w = new MachineLinesWriter(catalog, { all: false });
    const required = (i: number): number => (i << 4) | (1 << 2);
    // A line listing two Required updates first, so the writer's places hold entries a later line could reuse.
    w.machine(machine('A', 'a', new ResultSet({ id: 1, shared: false, outcomes: Uint32Array.of(required(3), required(5)) })));
    const before = w.size;
    for (const change of [(o: Uint32Array) => (o[1] = required(7)), (o: Uint32Array) => (o[0] = (2 << 4) | (0 << 2))]) {
      const outcomes = Uint32Array.of(required(2), (6 << 4) | (0 << 2)); // one Required, one Installed
      const set = new ResultSet({ id: 2, shared: false, outcomes });
      expect(set.stats.counts.required).toBe(1); // counted now
      change(outcomes); // two Required, or none
      expect(() => w.machine(machine('B', 'b', set))).toThrow(/lists \d required update\(s\) but counts 1/);
      expect(w.size).toBe(before);
    }
  });
});
