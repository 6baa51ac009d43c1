/**
 * LZX decompression for cabinet folders (window 2^15 .. 2^21), written from the published LZX/MS-CAB format
 * description. Decisions where the format is loose follow libmspack, the decoder behind `cabextract`, because
 * that is our oracle: identical bytes on good input, an error on the same bad input.
 *
 * The decoder is fed one CFDATA block at a time; each block decodes to one output frame (32 KiB except the
 * last). A frame never ends inside a match, and the bit stream re-aligns to 16 bits at each frame end.
 *
 * Hot path notes: Huffman tables are full 16-bit lookup tables (one array index per symbol, no tree walk),
 * allocated once per decoder and rebuilt in place for each block.
 */
import type { BlockDecoder } from './mszip.js';

const NUM_CHARS = 256;
const PRETREE_SYMBOLS = 20;
const ALIGNED_SYMBOLS = 8;
const LENGTH_SYMBOLS = 249;
const MIN_MATCH = 2;
const LEN_SAFETY = 64; // room for a run that overshoots the end of a length table, as libmspack allows
const FRAME_SIZE = 32768;
const TABLE_BITS = 16;

const BLOCK_VERBATIM = 1;
const BLOCK_ALIGNED = 2;
const BLOCK_UNCOMPRESSED = 3;

const POSITION_SLOTS: Readonly<Record<number, number>> = { 15: 30, 16: 32, 17: 34, 18: 36, 19: 38, 20: 42, 21: 50 };

const EXTRA_BITS = new Uint8Array(51);
const POSITION_BASE = new Uint32Array(51);
for (let i = 0, base = 0; i < 51; i++) {
  const extra = Math.max(0, Math.min(17, (i >> 1) - 1));
  EXTRA_BITS[i] = extra;
  POSITION_BASE[i] = base;
  base += 1 << extra;
}

class LzxError extends Error {}

/** A canonical Huffman code as a 2^16-entry lookup table: entry = (symbol << 5) | length, 0 = no code. */
class HuffmanTable {
  readonly lens: Uint8Array;
  readonly table = new Uint32Array(1 << TABLE_BITS);
  empty = true;
  constructor(
    readonly symbols: number,
    private readonly name: string,
  ) {
    this.lens = new Uint8Array(symbols + LEN_SAFETY);
  }

  /** Rebuilds from `lens`. An all-zero table is allowed only when `mayBeEmpty` (libmspack: the length tree). */
  build(mayBeEmpty: boolean): void {
    const { lens, table, symbols } = this;
    table.fill(0);
    let code = 0; // left-aligned to TABLE_BITS
    let used = 0;
    for (let len = 1; len <= TABLE_BITS; len++) {
      const span = 1 << (TABLE_BITS - len);
      for (let sym = 0; sym < symbols; sym++) {
        if (lens[sym] !== len) continue;
        if (code + span > table.length) throw new LzxError(`${this.name} Huffman table is over-subscribed`);
        table.fill((sym << 5) | len, code, code + span);
        code += span;
        used++;
      }
    }
    this.empty = used === 0;
    if (code !== table.length) {
      if (used === 0 && mayBeEmpty) return;
      throw new LzxError(used === 0 ? `${this.name} Huffman table has no codes` : `${this.name} Huffman table is incomplete`);
    }
  }
}

export class LzxDecoder implements BlockDecoder {
  private readonly window: Uint8Array;
  private readonly windowSize: number;
  private readonly mainSymbols: number;
  private windowPos = 0;
  private totalOut = 0;
  private frame = 0;

  private r0 = 1;
  private r1 = 1;
  private r2 = 1;
  private headerRead = false;
  private intelFileSize = 0;
  private intelStarted = false;
  private blockType = 0;
  private blockLength = 0;
  private blockRemaining = 0;

  private readonly pretree = new HuffmanTable(PRETREE_SYMBOLS, 'pre-tree');
  private readonly maintree: HuffmanTable;
  private readonly lengthtree = new HuffmanTable(LENGTH_SYMBOLS, 'length');
  private readonly alignedtree = new HuffmanTable(ALIGNED_SYMBOLS, 'aligned-offset');

  // Bit reader over the current input: 16-bit little-endian words, most significant bit first.
  private input: Uint8Array = new Uint8Array(0);
  private inPos = 0;
  private bitBuf = 0;
  private bitsLeft = 0;
  private leftover: Uint8Array = new Uint8Array(0);

  constructor(windowBits: number) {
    const slots = POSITION_SLOTS[windowBits];
    if (slots === undefined) throw new LzxError(`LZX window of 2^${windowBits} bytes is not valid (15..21)`);
    this.windowSize = 1 << windowBits;
    this.window = new Uint8Array(this.windowSize);
    this.mainSymbols = NUM_CHARS + slots * 8;
    this.maintree = new HuffmanTable(this.mainSymbols, 'main');
  }

  decode(block: Buffer, outSize: number): Buffer {
    if (outSize > FRAME_SIZE || outSize <= 0) throw new LzxError(`LZX frame of ${outSize} bytes is not valid`);
    this.input = this.leftover.length > 0 ? Buffer.concat([this.leftover, block]) : block;
    this.inPos = 0;
    this.bitBuf = 0;
    this.bitsLeft = 0;
    try {
      return this.decodeFrame(outSize);
    } catch (e) {
      if (e instanceof LzxError) throw e;
      throw new LzxError(`LZX data is corrupt: ${(e as Error).message}`);
    }
  }

  private decodeFrame(frameSize: number): Buffer {
    const frameStart = this.windowPos;
    if (!this.headerRead) {
      this.headerRead = true;
      if (this.readBits(1)) this.intelFileSize = ((this.readBits(16) << 16) | this.readBits(16)) >>> 0;
    }
    let todo = frameSize;
    while (todo > 0) {
      if (this.blockRemaining === 0) this.readBlockHeader();
      let run = Math.min(this.blockRemaining, todo);
      todo -= run;
      this.blockRemaining -= run;
      if (this.blockType === BLOCK_UNCOMPRESSED) this.copyStored(run);
      else run = this.decodeCompressed(run);
      if (run < 0) {
        // The last match ran past the run: legal only if it stays inside the block (and, checked below, the frame).
        if (-run > this.blockRemaining) throw new LzxError('LZX match overruns the end of its block');
        this.blockRemaining += run;
        todo += run;
      }
    }
    if (this.windowPos - frameStart !== frameSize) throw new LzxError('LZX data decodes past the end of its frame');
    this.checkOverread();

    const out = Buffer.from(this.window.subarray(frameStart, frameStart + frameSize));
    if (this.windowPos === this.windowSize) this.windowPos = 0;
    // Re-align to 16 bits for the next frame; keep any unread whole bytes for it.
    this.bitsLeft -= this.bitsLeft & 15;
    const unread = Math.min(this.input.length, this.inPos - (this.bitsLeft >> 3));
    this.leftover = unread < this.input.length ? this.input.slice(unread) : new Uint8Array(0);

    if (this.intelStarted && this.intelFileSize !== 0 && this.frame < 32768 && frameSize > 10) this.undoE8(out);
    this.frame++;
    return out;
  }

  /** Reverses the encoder's x86 CALL (E8) translation of absolute to relative addresses. */
  private undoE8(out: Buffer): void {
    const size = this.intelFileSize | 0;
    let cur = (this.frame * FRAME_SIZE) | 0;
    const end = out.length - 10;
    for (let i = 0; i < end;) {
      if (out[i] !== 0xe8) {
        i++;
        cur++;
        continue;
      }
      const abs = out.readInt32LE(i + 1);
      if (abs >= -cur && abs < size) out.writeInt32LE(abs >= 0 ? abs - cur : abs + size, i + 1);
      i += 5;
      cur += 5;
    }
  }

  private readBlockHeader(): void {
    if (this.blockType === BLOCK_UNCOMPRESSED && this.blockLength & 1) this.inPos++; // pad byte after odd stored block
    this.blockType = this.readBits(3);
    this.blockLength = (this.readBits(16) << 8) | this.readBits(8);
    this.blockRemaining = this.blockLength;
    switch (this.blockType) {
      case BLOCK_ALIGNED:
        for (let i = 0; i < ALIGNED_SYMBOLS; i++) this.alignedtree.lens[i] = this.readBits(3);
        this.alignedtree.build(false);
        this.readMainAndLengthTrees();
        break;
      case BLOCK_VERBATIM:
        this.readMainAndLengthTrees();
        break;
      case BLOCK_UNCOMPRESSED: {
        this.intelStarted = true; // stored bytes may hold E8 opcodes
        if (this.bitsLeft === 0) this.ensure(16); // "1 to 16 bits" of alignment: a whole word if already aligned
        this.bitsLeft = 0;
        this.bitBuf = 0;
        const p = this.inPos;
        if (p + 12 > this.input.length) throw new LzxError('LZX stored block header is truncated');
        const dv = this.input;
        const u32 = (o: number): number => (dv[o]! | (dv[o + 1]! << 8) | (dv[o + 2]! << 16) | (dv[o + 3]! << 24)) >>> 0;
        this.r0 = u32(p);
        this.r1 = u32(p + 4);
        this.r2 = u32(p + 8);
        this.inPos += 12;
        break;
      }
      default:
        throw new LzxError(`LZX block type ${this.blockType} is not valid`);
    }
  }

  private readMainAndLengthTrees(): void {
    const main = this.maintree;
    this.readLengths(main.lens, 0, NUM_CHARS);
    this.readLengths(main.lens, NUM_CHARS, this.mainSymbols);
    main.build(false);
    if (main.lens[0xe8] !== 0) this.intelStarted = true;
    this.readLengths(this.lengthtree.lens, 0, LENGTH_SYMBOLS);
    this.lengthtree.build(true);
  }

  /** Code lengths are sent as deltas from the previous block's, coded with a 20-symbol pre-tree. */
  private readLengths(lens: Uint8Array, first: number, last: number): void {
    const pre = this.pretree;
    for (let i = 0; i < PRETREE_SYMBOLS; i++) pre.lens[i] = this.readBits(4);
    pre.build(false);
    const limit = lens.length;
    for (let x = first; x < last;) {
      let z = this.decodeSymbol(pre);
      if (z === 17 || z === 18) {
        let run = z === 17 ? this.readBits(4) + 4 : this.readBits(5) + 20;
        if (x + run > limit) throw new LzxError('LZX code-length run overflows its table');
        while (run-- > 0) lens[x++] = 0;
      } else if (z === 19) {
        let run = this.readBits(1) + 4;
        z = this.decodeSymbol(pre);
        if (x + run > limit) throw new LzxError('LZX code-length run overflows its table');
        let v = lens[x]! - z;
        if (v < 0) v += 17;
        while (run-- > 0) lens[x++] = v;
      } else {
        let v = lens[x]! - z;
        if (v < 0) v += 17;
        lens[x++] = v;
      }
    }
  }

  /** Decodes matches and literals for `run` output bytes; returns the remaining run (negative on overrun). */
  private decodeCompressed(run: number): number {
    const win = this.window;
    const mask = this.windowSize - 1;
    const main = this.maintree;
    const aligned = this.blockType === BLOCK_ALIGNED;
    let wp = this.windowPos;
    while (run > 0) {
      const sym = this.decodeSymbol(main);
      if (sym < NUM_CHARS) {
        win[wp++] = sym;
        run--;
        continue;
      }
      const m = sym - NUM_CHARS;
      let length = m & 7;
      if (length === 7) {
        if (this.lengthtree.empty) throw new LzxError('LZX match needs the length tree, which is empty');
        length += this.decodeSymbol(this.lengthtree);
      }
      length += MIN_MATCH;
      const slot = m >> 3;
      let offset: number;
      if (slot === 0) {
        offset = this.r0;
      } else if (slot === 1) {
        offset = this.r1;
        this.r1 = this.r0;
        this.r0 = offset;
      } else if (slot === 2) {
        offset = this.r2;
        this.r2 = this.r0;
        this.r0 = offset;
      } else {
        const extra = EXTRA_BITS[slot]!;
        offset = POSITION_BASE[slot]! - 2;
        if (aligned && extra >= 3) {
          if (extra > 3) offset += this.readBits(extra - 3) << 3;
          offset += this.decodeSymbol(this.alignedtree);
        } else if (extra > 0) {
          offset += this.readBits(extra);
        }
        this.r2 = this.r1;
        this.r1 = this.r0;
        this.r0 = offset;
      }
      const produced = this.totalOut + (wp - this.windowPos);
      if (offset > produced || offset > this.windowSize || offset === 0) {
        throw new LzxError(`LZX match refers ${offset} bytes back, before the start of the data`);
      }
      if (wp + length > this.windowSize) throw new LzxError('LZX match runs over the end of the window');
      let src = (wp - offset) & mask;
      for (let i = 0; i < length; i++) {
        win[wp++] = win[src]!;
        src = (src + 1) & mask;
      }
      run -= length;
    }
    this.totalOut += wp - this.windowPos;
    this.windowPos = wp;
    return run;
  }

  private copyStored(run: number): void {
    if (this.inPos + run > this.input.length) throw new LzxError('LZX stored block is truncated');
    if (this.windowPos + run > this.windowSize) throw new LzxError('LZX stored block runs over the end of the window');
    this.window.set(this.input.subarray(this.inPos, this.inPos + run), this.windowPos);
    this.inPos += run;
    this.windowPos += run;
    this.totalOut += run;
  }

  private ensure(n: number): void {
    const inp = this.input;
    while (this.bitsLeft < n) {
      const p = this.inPos;
      // Past the end we read zeros; checkOverread() fails the frame if any of them were actually used.
      const word = (p < inp.length ? inp[p]! : 0) | ((p + 1 < inp.length ? inp[p + 1]! : 0) << 8);
      this.inPos = p + 2;
      this.bitBuf = (this.bitBuf | (word << (16 - this.bitsLeft))) >>> 0;
      this.bitsLeft += 16;
    }
  }

  private readBits(n: number): number {
    if (n === 0) return 0;
    if (n > 16) return (this.readBits(n - 16) << 16) | this.readBits(16);
    this.ensure(n);
    const v = this.bitBuf >>> (32 - n);
    this.bitBuf = (this.bitBuf << n) >>> 0;
    this.bitsLeft -= n;
    return v;
  }

  private decodeSymbol(t: HuffmanTable): number {
    this.ensure(TABLE_BITS);
    const e = t.table[this.bitBuf >>> (32 - TABLE_BITS)]!;
    if (e === 0) throw new LzxError('LZX data holds a code that is not in its Huffman table');
    const len = e & 31;
    this.bitBuf = (this.bitBuf << len) >>> 0;
    this.bitsLeft -= len;
    return e >>> 5;
  }

  private checkOverread(): void {
    const consumedBits = this.inPos * 8 - this.bitsLeft;
    if (consumedBits > this.input.length * 8) throw new LzxError('LZX data for a frame runs past the end of its data block');
  }
}
