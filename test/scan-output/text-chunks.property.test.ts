/**
 * TextChunks (adapters/scan-output/batch-output.ts): text pushed piece by piece comes out as the UTF-8 bytes of each
 * piece, in chunks taken at any point, whatever the pieces' sizes (larger than a chunk too) and characters
 * (multi-byte, surrogate pairs, lone surrogates), and a chunk given back to recycle() never changes one still held —
 * nor does a chunk given back twice, or memory that was never handed out.
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
        // Each piece is encoded on its own (a surrogate pair split across two pieces is two U+FFFD, as TextChunks says).
        const want: Buffer[] = [];
        let sinceTake = 0;
        for (const [s, what] of steps) {
          chunks.push(s);
          want.push(Buffer.from(s, 'utf8'));
          sinceTake += Buffer.byteLength(s, 'utf8');
          expect(chunks.size).toBe(sinceTake);
          if (what === 'push') continue;
          sinceTake = 0;
          const bytes = chunks.take();
          taken.push({ bytes, copy: Buffer.from(bytes) });
          if (what === 'take-and-recycle' && taken.length > 1) chunks.recycle(taken[taken.length - 2].bytes);
        }
        const last = chunks.take();
        const all = Buffer.concat([...taken.map((t) => t.copy), Buffer.from(last)]);
        expect(all.equals(Buffer.concat(want))).toBe(true);
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

  it('takes back only chunks it lent and has not had back, and only at the standard size', () => {
    const chunks = new TextChunks();
    chunks.push('x');
    const x = chunks.take();
    chunks.recycle(x);
    chunks.recycle(x); // given back twice: the second is ignored
    chunks.push('y');
    const y = chunks.take(); // not x's memory yet (the chunk made ready when x was taken)
    chunks.push('z');
    const z = chunks.take(); // x's memory, once
    chunks.push('w');
    const w = chunks.take();
    expect(z.buffer).toBe(x.buffer);
    expect(w.buffer).not.toBe(x.buffer);
    expect([y, z, w].map((c) => Buffer.from(c).toString())).toEqual(['y', 'z', 'w']);

    // Memory that was never handed out is not written into.
    const foreign = Buffer.alloc(1024 * 1024, 0x2a);
    chunks.recycle(foreign);
    chunks.recycle(foreign.subarray(10));
    for (let k = 0; k < 6; k++) {
      chunks.push('overwrite?');
      chunks.recycle(chunks.take());
    }
    expect(foreign.every((b) => b === 0x2a)).toBe(true);

    // A chunk grown for a huge piece is let go, not kept for the rest of the run.
    const grown = new TextChunks();
    grown.push('é'.repeat(600_000)); // 1.8 MB of room asked for: larger than a chunk
    const big = grown.take();
    expect(big.buffer.byteLength).toBeGreaterThan(1024 * 1024);
    grown.recycle(big);
    for (let k = 0; k < 6; k++) {
      grown.push('small');
      const c = grown.take();
      expect(c.buffer).not.toBe(big.buffer);
      grown.recycle(c);
    }
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
