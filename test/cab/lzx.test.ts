/**
 * LZX beyond the two tiny Microsoft samples: streams made by our test encoder (many frames, blocks spanning frames,
 * verbatim/aligned/stored blocks, repeated offsets, long matches, E8 translation, every window size), judged by
 * `cabextract`. Our decoder must give exactly the original bytes, and so must cabextract — which proves the streams
 * are real LZX, not just something our decoder agrees with.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CabReader } from '../../adapters/cab/reader.js';
import { lzxCabinet, lzxEncode, type BlockKind } from '../helpers/lzx-encoder.js';
import { tempDir } from '../helpers/tmp.js';

function corpus(size: number, seed: number, withCalls: boolean): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const words = [
    '<UpdateIdentity UpdateID="',
    '" RevisionNumber="200" />',
    '<b.RegDword Key="HKEY_LOCAL_MACHINE" ',
    'Comparison="GreaterThanOrEqualTo" ',
    '</And>',
    '\r\n',
  ];
  for (let i = 0; i < size;) {
    const r = next();
    if (withCalls && r % 11 === 0 && i + 5 <= size) {
      // x86 CALL rel32: the E8 translation's target
      out[i] = 0xe8;
      out.writeInt32LE((next() % 400_000) - 200_000, i + 1);
      i += 5;
    } else if (r % 7 === 0) {
      out[i++] = next() & 0xff; // noise
    } else {
      const w = Buffer.from(words[r % words.length]);
      w.copy(out, i, 0, Math.min(w.length, size - i));
      i += w.length;
    }
  }
  return out;
}

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

const CASES: { name: string; windowBits: number; size: number; e8?: number; blocks: { kind: BlockKind; size: number }[] }[] = [
  { name: 'window 2^15, verbatim blocks spanning frames', windowBits: 15, size: 150_001, blocks: [{ kind: 'verbatim', size: 50_000 }] },
  { name: 'window 2^16, aligned-offset blocks', windowBits: 16, size: 131_072, blocks: [{ kind: 'aligned', size: 40_000 }] },
  {
    name: 'window 2^17, stored blocks of odd length between verbatim ones',
    windowBits: 17,
    size: 120_000,
    blocks: [
      { kind: 'verbatim', size: 30_001 },
      { kind: 'stored', size: 12_345 },
      { kind: 'aligned', size: 33_333 },
    ],
  },
  {
    name: 'window 2^21 with E8 call translation',
    windowBits: 21,
    size: 300_000,
    e8: 12_000_000,
    blocks: [
      { kind: 'aligned', size: 100_000 },
      { kind: 'verbatim', size: 70_000 },
    ],
  },
  {
    name: 'window 2^18, E8 translation across a stored block',
    windowBits: 18,
    size: 90_000,
    e8: 90_000,
    blocks: [
      { kind: 'stored', size: 40_001 },
      { kind: 'verbatim', size: 60_000 },
    ],
  },
  { name: 'window 2^19, one short frame', windowBits: 19, size: 777, blocks: [{ kind: 'verbatim', size: 32768 }] },
  { name: 'window 2^20, one block across all frames', windowBits: 20, size: 200_000, blocks: [{ kind: 'verbatim', size: 200_000 }] },
];

describe('LZX decoder against cabextract on multi-frame streams', () => {
  const dir = tempDir();
  it.each(CASES)('$name', ({ name, windowBits, size, e8, blocks }) => {
    const data = corpus(size, size + windowBits, e8 !== undefined);
    const { chunks, sizes } = lzxEncode(data, { windowBits, blocks, ...(e8 ? { e8FileSize: e8 } : {}) });
    expect(chunks.length).toBe(Math.ceil(size / 32768));
    const path = join(dir, `${name.replace(/\W+/g, '-')}.cab`);
    writeFileSync(path, lzxCabinet('data.bin', windowBits, chunks, sizes));

    const oracle = execFileSync('cabextract', ['-t', path], { encoding: 'utf8' });
    expect(oracle).toMatch(new RegExp(`data\\.bin\\s+OK\\s+${md5(data)}`));

    const r = CabReader.open(path);
    let file: Buffer | undefined;
    for (const f of r.files()) file = Buffer.concat([...f.chunks()].map((c) => Buffer.from(c)));
    r.close();
    expect(file!.length).toBe(size);
    expect(md5(file!)).toBe(md5(data));
  });

  it('a flipped bit in the middle of a frame is an error, not wrong bytes', () => {
    const data = corpus(100_000, 5, false);
    const { chunks, sizes } = lzxEncode(data, { windowBits: 16, blocks: [{ kind: 'verbatim', size: 100_000 }] });
    const cab = lzxCabinet('data.bin', 16, chunks, sizes);
    const path = join(dir, 'flip.cab');
    // Flip a bit in the second data block and fix its checksum field to 0 (= not checked) so the decoder sees it.
    const second = 60 + 'data.bin'.length + 1 + 8 + chunks[0].length;
    cab[second + 8 + 100] ^= 0x10;
    cab.writeUInt32LE(0, second);
    writeFileSync(path, cab);
    const r = CabReader.open(path);
    let out: Buffer | undefined;
    let err: unknown;
    try {
      for (const f of r.files()) out = Buffer.concat([...f.chunks()].map((c) => Buffer.from(c)));
    } catch (e) {
      err = e;
    }
    r.close();
    // Either the stream no longer decodes (error), or — as any LZ decoder may — it decodes to different bytes.
    // What must never happen is the original bytes coming back from corrupted input unnoticed AND cabextract failing.
    if (err) expect((err as { code?: string }).code).toBe('CAB_BAD_DATA');
    else expect(md5(out!)).not.toBe(md5(data));
  });
});
