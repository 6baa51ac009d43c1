/**
 * TextChunks (adapters/scan-output/batch-output.ts): text pushed piece by piece comes out as its UTF-8 bytes, in
 * chunks taken at any point, whatever the pieces' sizes (larger than a chunk too) and characters (multi-byte,
 * surrogate pairs, lone surrogates), and a chunk given back to recycle() never changes one still held.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TextChunks } from '../../adapters/scan-output/batch-output.js';

/** A piece: mostly short ASCII rows, some with non-ASCII text, now and then one larger than a 1 MiB chunk. */
const piece = fc.oneof(
  { weight: 8, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 100 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 50 }) }, // lone surrogates: encoded as U+FFFD
  { weight: 1, arbitrary: fc.integer({ min: 300_000, max: 1_300_000 }).map((n) => 'é€😀x'.repeat(Math.ceil(n / 5)).slice(0, n)) },
);
/** What the batch loop does between pieces: nothing, take the chunk, or take it and give back an earlier one. */
const step = fc.tuple(piece, fc.constantFrom('push', 'take', 'take-and-recycle'));

describe('TextChunks', () => {
  it('gives back exactly the UTF-8 of what was pushed, across takes and recycled chunks', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const chunks = new TextChunks();
        const taken: { bytes: Uint8Array; copy: Buffer }[] = [];
        let text = '';
        let sinceTake = '';
        for (const [s, what] of steps) {
          chunks.push(s);
          text += s;
          sinceTake += s;
          expect(chunks.size).toBe(Buffer.byteLength(sinceTake, 'utf8'));
          if (what === 'push') continue;
          sinceTake = '';
          const bytes = chunks.take();
          taken.push({ bytes, copy: Buffer.from(bytes) });
          if (what === 'take-and-recycle' && taken.length > 1) chunks.recycle(taken[taken.length - 2].bytes);
        }
        const last = chunks.take();
        const all = Buffer.concat([...taken.map((t) => t.copy), Buffer.from(last)]);
        expect(all.equals(Buffer.from(text, 'utf8'))).toBe(true);
        // The newest taken chunk was never recycled: nothing written since may have changed it.
        const newest = taken[taken.length - 1];
        if (newest) expect(Buffer.from(newest.bytes).equals(newest.copy)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('counts bytes, not characters', () => {
    const chunks = new TextChunks();
    chunks.push('a€😀');
    expect(chunks.size).toBe(1 + 3 + 4);
    expect(Buffer.from(chunks.take()).toString('utf8')).toBe('a€😀');
    expect(chunks.size).toBe(0);
  });

  it('reuses a recycled chunk for later text, and keeps a chunk not given back intact', () => {
    const chunks = new TextChunks();
    chunks.push('first');
    const a = chunks.take();
    chunks.push('second');
    const b = chunks.take();
    chunks.recycle(a);
    chunks.push('third'); // into the chunk take() made ready when it gave out b
    const c = chunks.take(); // the next chunk made ready is a's memory
    chunks.push('fourth, written where "first" was');
    const d = chunks.take();
    expect(d.buffer).toBe(a.buffer);
    expect(c.buffer).not.toBe(a.buffer);
    expect([b, c, d].map((x) => Buffer.from(x).toString())).toEqual(['second', 'third', 'fourth, written where "first" was']);
  });
});
