/**
 * msgpackFrames (the reading thread's splitter of a msgpack inventory stream) against an obviously correct reference:
 * the whole stream in one buffer, walked document by document. Whatever the chunking — documents cut anywhere, chunks
 * of one byte, chunks longer than many documents, documents longer than many chunks — the frames are the reference's:
 * same bytes, same numbers, in order; where the stream stops being msgpack, or ends inside a document, both end with
 * one broken frame.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { msgpackFrames, msgpackValueEnd } from '../../engine/inventory/msgpack-frames.js';

const SEED = 20261202;
const MAX = 1 << 22; // larger than any document here: the limit's own cut-off is a case of its own (fuzz.test.ts)

interface Seen {
  readonly hex: string;
  readonly n: number;
  readonly broken: boolean;
}

/** The reference: the whole stream at once. */
function reference(all: Buffer): Seen[] {
  const out: Seen[] = [];
  let pos = 0;
  while (pos < all.length) {
    const end = msgpackValueEnd(all, pos);
    if (end < 0) return [...out, { hex: all.subarray(pos).toString('hex'), n: out.length + 1, broken: true }];
    out.push({ hex: all.subarray(pos, end).toString('hex'), n: out.length + 1, broken: false });
    pos = end;
  }
  return out;
}

async function split(chunks: readonly Buffer[]): Promise<Seen[]> {
  const out: Seen[] = [];
  for await (const f of msgpackFrames(Readable.from(chunks), MAX))
    out.push({ hex: Buffer.from(f.bytes).toString('hex'), n: f.n, broken: f.broken !== undefined });
  return out;
}

/** `all` cut at the given sizes, cycled. */
function cut(all: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, k = 0; at < all.length; k++) {
    const size = sizes[k % sizes.length];
    // A copy each: a stream's chunks are buffers of their own.
    chunks.push(Buffer.from(all.subarray(at, at + size)));
    at += size;
  }
  return chunks;
}

/** Inventory-like documents, a few bytes to longer than many chunks. */
const document = fc.oneof(
  { weight: 6, arbitrary: fc.record({ computer: fc.record({ name: fc.string() }), files: fc.array(fc.string(), { maxLength: 40 }) }) },
  { weight: 2, arbitrary: fc.array(fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string()), { maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 20_000, max: 90_000 }).map((n) => ({ big: 'x'.repeat(n) })) },
);
const chunkSizes = fc.array(fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 70_000 })), { minLength: 1, maxLength: 8 });

describe('msgpackFrames ≡ splitting the whole stream at once', () => {
  it('for well-formed streams, any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(document, { maxLength: 30 }), chunkSizes, async (docs, sizes) => {
        const all = Buffer.concat(docs.map((d) => Buffer.from(pack(d))));
        const want = reference(all);
        expect(want.every((f) => !f.broken)).toBe(true);
        expect(await split(cut(all, sizes))).toEqual(want);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('for streams cut short or gone bad: the same frames, then one broken frame that starts where the reference says', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(document, { minLength: 1, maxLength: 12 }),
        chunkSizes,
        fc.nat(),
        fc.oneof(fc.constant('truncate'), fc.constant('bad byte')),
        async (docs, sizes, where, how) => {
          const whole = Buffer.concat(docs.map((d) => Buffer.from(pack(d))));
          const at = where % whole.length;
          // 0xc1 is the one byte msgpack never uses.
          const all =
            how === 'truncate' ? whole.subarray(0, at) : Buffer.concat([whole.subarray(0, at), Buffer.of(0xc1), whole.subarray(at)]);
          const want = reference(all);
          const got = await split(cut(all, sizes));
          const good = want.filter((f) => !f.broken);
          expect(got.slice(0, good.length)).toEqual(good);
          const rest = got.slice(good.length);
          if (want.length === good.length) expect(rest).toEqual([]);
          else {
            // The broken frame holds what had arrived of the rest when the splitter gave up: a start of the reference's.
            expect(rest).toHaveLength(1);
            expect(rest[0].broken).toBe(true);
            expect(rest[0].n).toBe(good.length + 1);
            expect(want.at(-1)!.hex.startsWith(rest[0].hex)).toBe(true);
          }
        },
      ),
      { numRuns: 300, seed: SEED },
    );
  });
});
