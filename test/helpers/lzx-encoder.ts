/**
 * A small LZX *encoder* for tests only: no Linux tool writes LZX cabinets, so we make our own and let
 * `cabextract` judge them. It is deliberately simple (fixed complete Huffman codes, greedy hash matching) but
 * exercises what real streams hold: multiple 32 KiB frames, blocks that span frames, verbatim, aligned-offset and
 * stored blocks (odd lengths included), repeated offsets R0/R1/R2, long matches via the length tree, and the x86
 * E8 call translation.
 */
import { CAB_SIGNATURE, cabChecksum } from '../../adapters/cab/format.js';

const FRAME = 32768;
const SLOTS: Readonly<Record<number, number>> = { 15: 30, 16: 32, 17: 34, 18: 36, 19: 38, 20: 42, 21: 50 };
const EXTRA = new Uint8Array(51);
const BASE = new Uint32Array(52);
for (let i = 0, b = 0; i < 51; i++) {
  EXTRA[i] = Math.max(0, Math.min(17, (i >> 1) - 1));
  BASE[i] = b;
  b += 1 << EXTRA[i];
  BASE[i + 1] = b;
}

class BitWriter {
  readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >>> i) & 1);
      if (++this.n === 16) this.flushWord();
    }
  }
  private flushWord(): void {
    this.bytes.push(this.acc & 0xff, (this.acc >> 8) & 0xff);
    this.acc = 0;
    this.n = 0;
  }
  get aligned(): boolean {
    return this.n === 0;
  }
  /** Pads the current 16-bit word with zeros. */
  align(): void {
    if (this.n > 0) this.write(0, 16 - this.n);
  }
  rawByte(b: number): void {
    if (this.n !== 0) throw new Error('raw bytes need alignment');
    this.bytes.push(b & 0xff);
  }
}

/** Lengths of a complete canonical code over n symbols: 2^L − n symbols of L−1 bits, the rest L bits. */
function completeLengths(n: number): Uint8Array {
  const L = Math.ceil(Math.log2(n));
  const short = (1 << L) - n;
  return Uint8Array.from({ length: n }, (_, i) => (i < short ? L - 1 : L));
}

function canonical(lens: Uint8Array): Uint32Array {
  const codes = new Uint32Array(lens.length);
  let code = 0;
  for (let len = 1; len <= 16; len++) {
    for (let s = 0; s < lens.length; s++) if (lens[s] === len) codes[s] = code++;
    code <<= 1;
  }
  return codes;
}

const PRE_LENS = Uint8Array.from({ length: 20 }, (_, i) => (i < 12 ? 4 : 5)); // 12/16 + 8/32 = 1
const PRE_CODES = canonical(PRE_LENS);

export type BlockKind = 'verbatim' | 'aligned' | 'stored';

export interface LzxEncodeOptions {
  readonly windowBits: number;
  /** E8 translation file size (0 = off). */
  readonly e8FileSize?: number;
  /** Block plan, repeated: kind and uncompressed size of each block. */
  readonly blocks: readonly { kind: BlockKind; size: number }[];
}

/** Encodes `data` and returns one compressed chunk per 32 KiB frame (one CFDATA block each). */
export function lzxEncode(input: Uint8Array, opts: LzxEncodeOptions): { chunks: Buffer[]; sizes: number[] } {
  const windowSize = 1 << opts.windowBits;
  const slots = SLOTS[opts.windowBits];
  const mainLens = completeLengths(256 + slots * 8);
  const mainCodes = canonical(mainLens);
  const lenLens = completeLengths(249);
  const lenCodes = canonical(lenLens);
  const alignLens = new Uint8Array(8).fill(3);
  const alignCodes = canonical(alignLens);

  // Forward E8 translation, frame by frame, on a copy (the decoder undoes it on output).
  const data = Uint8Array.from(input);
  const size = opts.e8FileSize ?? 0;
  if (size) {
    for (let f = 0; f * FRAME < data.length && f < 32768; f++) {
      const start = f * FRAME;
      const frameLen = Math.min(FRAME, data.length - start);
      if (frameLen <= 10) continue;
      for (let i = 0; i < frameLen - 10;) {
        if (data[start + i] !== 0xe8) {
          i++;
          continue;
        }
        const cur = start + i;
        const p = start + i + 1;
        const rel = data[p] | (data[p + 1] << 8) | (data[p + 2] << 16) | (data[p + 3] << 24) | 0;
        if (rel >= -cur && rel < size) {
          const abs = rel < size - cur ? rel + cur : rel - size;
          data[p] = abs & 0xff;
          data[p + 1] = (abs >> 8) & 0xff;
          data[p + 2] = (abs >> 16) & 0xff;
          data[p + 3] = (abs >>> 24) & 0xff;
        }
        i += 5;
      }
    }
  }

  const w = new BitWriter();
  const chunks: Buffer[] = [];
  const sizes: number[] = [];
  let chunkStart = 0;
  const prevMain = new Uint8Array(mainLens.length);
  const prevLen = new Uint8Array(249);
  let r0 = 1,
    r1 = 1,
    r2 = 1;
  const head = new Map<number, number>();
  const hash = (i: number): number => (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];

  w.write(size ? 1 : 0, 1);
  if (size) {
    w.write((size >>> 16) & 0xffff, 16);
    w.write(size & 0xffff, 16);
  }
  const writeLens = (lens: Uint8Array, prev: Uint8Array, from: number, to: number): void => {
    for (let i = 0; i < 20; i++) w.write(PRE_LENS[i], 4);
    for (let x = from; x < to; x++) {
      const z = (prev[x] - lens[x] + 17) % 17;
      w.write(PRE_CODES[z], PRE_LENS[z]);
      prev[x] = lens[x]!;
    }
  };
  const endFrameIfDue = (pos: number): void => {
    if (pos % FRAME === 0 || pos === data.length) {
      w.align();
      chunks.push(Buffer.from(w.bytes.slice(chunkStart)));
      sizes.push(pos - sizes.length * FRAME);
      chunkStart = w.bytes.length;
    }
  };

  let pos = 0;
  let planIndex = 0;
  while (pos < data.length) {
    const plan = opts.blocks[planIndex++ % opts.blocks.length];
    const blockLen = Math.min(plan.size, data.length - pos);
    const blockEnd = pos + blockLen;
    const type = plan.kind === 'verbatim' ? 1 : plan.kind === 'aligned' ? 2 : 3;
    w.write(type, 3);
    w.write(blockLen >>> 8, 16);
    w.write(blockLen & 0xff, 8);
    if (plan.kind === 'stored') {
      // "1 to 16 bits" of alignment, then R0..R2, then the bytes, padded to even length.
      if (w.aligned) w.write(0, 16);
      else w.align();
      for (const r of [r0, r1, r2]) for (let k = 0; k < 4; k++) w.rawByte((r >>> (8 * k)) & 0xff);
      while (pos < blockEnd) {
        w.rawByte(data[pos]);
        if (pos + 2 < data.length) head.set(hash(pos), pos);
        pos++;
        endFrameIfDue(pos);
      }
      if (blockLen & 1) w.rawByte(0);
      continue;
    }
    if (plan.kind === 'aligned') for (let i = 0; i < 8; i++) w.write(alignLens[i], 3);
    writeLens(mainLens, prevMain, 0, 256);
    writeLens(mainLens, prevMain, 256, mainLens.length);
    writeLens(lenLens, prevLen, 0, 249);

    while (pos < blockEnd) {
      const frameEnd = Math.min((Math.floor(pos / FRAME) + 1) * FRAME, data.length);
      const limit = Math.min(frameEnd, blockEnd) - pos;
      // Prefer a repeated offset, then a hashed match; matches never cross a frame or block end.
      let bestLen = 0,
        bestOff = 0;
      const tryOff = (off: number): void => {
        if (off <= 0 || off > pos || off > windowSize - 3) return;
        let l = 0;
        while (l < 257 && l < limit && data[pos + l] === data[pos + l - off]) l++;
        if (l > bestLen) {
          bestLen = l;
          bestOff = off;
        }
      };
      for (const r of [r0, r1, r2]) tryOff(r);
      if (pos + 2 < data.length) {
        const cand = head.get(hash(pos));
        if (cand !== undefined) tryOff(pos - cand);
        head.set(hash(pos), pos);
      }
      if (bestLen < 3) {
        const lit = data[pos];
        w.write(mainCodes[lit], mainLens[lit]);
        pos++;
      } else {
        let slot: number;
        let extraVal = 0;
        if (bestOff === r0) slot = 0;
        else if (bestOff === r1) {
          slot = 1;
          r1 = r0;
          r0 = bestOff;
        } else if (bestOff === r2) {
          slot = 2;
          r2 = r0;
          r0 = bestOff;
        } else {
          const formatted = bestOff + 2;
          slot = 3;
          while (BASE[slot + 1] <= formatted) slot++;
          extraVal = formatted - BASE[slot];
          r2 = r1;
          r1 = r0;
          r0 = bestOff;
        }
        const lenHeader = Math.min(bestLen - 2, 7);
        const sym = 256 + slot * 8 + lenHeader;
        w.write(mainCodes[sym], mainLens[sym]);
        if (lenHeader === 7) {
          const footer = bestLen - 2 - 7;
          w.write(lenCodes[footer], lenLens[footer]);
        }
        if (slot >= 3) {
          const extra = EXTRA[slot];
          if (plan.kind === 'aligned' && extra >= 3) {
            if (extra > 3) w.write(extraVal >>> 3, extra - 3);
            w.write(alignCodes[extraVal & 7], 3);
          } else if (extra > 0) {
            if (extra > 16) {
              w.write(extraVal >>> 16, extra - 16);
              w.write(extraVal & 0xffff, 16);
            } else w.write(extraVal, extra);
          }
        }
        for (let k = 1; k < bestLen; k++) if (pos + k + 2 < data.length) head.set(hash(pos + k), pos + k);
        pos += bestLen;
      }
      endFrameIfDue(pos);
    }
  }
  return { chunks, sizes };
}

/** Assembles a one-folder, one-file LZX cabinet from per-frame chunks. */
export function lzxCabinet(name: string, windowBits: number, chunks: Buffer[], sizes: number[]): Buffer {
  const nameBytes = Buffer.from(name, 'latin1');
  const dirSize = 36 + 8 + 16 + nameBytes.length + 1;
  const blocks = chunks.map((c, i) => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(c.length, 4);
    h.writeUInt16LE(sizes[i], 6);
    h.writeUInt32LE(cabChecksum(h, 4, 8, cabChecksum(c, 0, c.length, 0)), 0);
    return Buffer.concat([h, c]);
  });
  const total = dirSize + blocks.reduce((n, b) => n + b.length, 0);
  const d = Buffer.alloc(dirSize);
  d.writeUInt32LE(CAB_SIGNATURE, 0);
  d.writeUInt32LE(total, 8);
  d.writeUInt32LE(36 + 8, 16);
  d.writeUInt8(3, 24);
  d.writeUInt8(1, 25);
  d.writeUInt16LE(1, 26);
  d.writeUInt16LE(1, 28);
  d.writeUInt32LE(dirSize, 36);
  d.writeUInt16LE(blocks.length, 40);
  d.writeUInt16LE(0x0003 | (windowBits << 8), 42);
  d.writeUInt32LE(
    sizes.reduce((n, s) => n + s, 0),
    44,
  );
  d.writeUInt32LE(0, 48);
  d.writeUInt16LE(0, 52);
  d.writeUInt16LE(0x5821, 54);
  d.writeUInt16LE(0, 56);
  d.writeUInt16LE(0x20, 58);
  nameBytes.copy(d, 60);
  return Buffer.concat([d, ...blocks]);
}
