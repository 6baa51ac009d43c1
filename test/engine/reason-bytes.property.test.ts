/**
 * Reasons travel from a worker as UTF-8 bytes (engine/fleet/reason-bytes.ts): whatever the texts — empty, non-ASCII,
 * astral characters, longer than the encoder's scratch — each reads back as the string it was, through the reader and
 * through a ResultSet, before and after the set decodes them for good.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReasonEncoder, ReasonReader } from '../../engine/fleet/reason-bytes.js';
import { ResultSet } from '../../engine/fleet/result-set.js';

const text = fc.oneof(
  fc.constant(''),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ maxLength: 200 }),
  // Longer than the encoder's first scratch (64 KiB) once a few are together.
  fc.integer({ min: 20_000, max: 70_000 }).map((n) => 'é'.repeat(n)),
);

describe('reason bytes', () => {
  it('every reason reads back as it was, from one encoder reused for set after set', () => {
    const encoder = new ReasonEncoder();
    fc.assert(
      fc.property(fc.array(fc.array(text, { maxLength: 12 }), { minLength: 1, maxLength: 4 }), (sets) => {
        const encoded = sets.map((reasons) => {
          encoder.begin();
          for (const r of reasons) encoder.push(r);
          return encoder.end();
        });
        // Read after every set was encoded: no set's bytes may share the scratch the next one overwrote.
        sets.forEach((reasons, s) => {
          const bytes = encoded[s];
          const reader = new ReasonReader(bytes);
          expect(reader.length).toBe(reasons.length);
          expect(Array.from({ length: reader.length }, (_, k) => reader.at(k))).toEqual(reasons);
          expect(bytes.utf8.byteLength).toBe(reasons.reduce((n, r) => n + Buffer.byteLength(r), 0));
          expect(bytes.utf8.buffer.byteLength).toBe(bytes.utf8.byteLength); // its own memory, not a view of the scratch
          const set = new ResultSet({ id: 1, shared: true, outcomes: new Uint32Array(reasons.length), reasons: bytes });
          expect(set.hasReasons).toBe(true);
          expect(reasons.map((_, k) => set.reason(k))).toEqual(reasons);
          expect(set.reasonBytes).toBe(bytes.utf8.byteLength + bytes.ends.byteLength);
          expect(set.reasonTexts()).toEqual(reasons);
          expect(set.reasonBytes).toBe(0); // decoded once: the bytes are let go
          expect(set.updates.map((u) => u.reason)).toEqual(reasons);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('a set without reasons has none, in either form', () => {
    const set = new ResultSet({ id: 1, shared: false, outcomes: new Uint32Array(3) });
    expect(set.hasReasons).toBe(false);
    expect(set.reason(1)).toBe('');
    expect(set.reasonTexts()).toBeUndefined();
    expect(set.updates.every((u) => !('reason' in u))).toBe(true);
  });
});
