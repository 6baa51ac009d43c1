/**
 * MSZIP: each CFDATA block is "CK" followed by raw deflate data that ends on a final block; the 32 KiB history
 * carries over from one block to the next. zlib does the inflating; we hand it the previous output as its
 * dictionary.
 */
import { inflateRawSync } from 'node:zlib';
import { CAB_BLOCK_MAX } from './format.js';

export interface BlockDecoder {
  /** Decodes one CFDATA payload into exactly `outSize` bytes, or throws a plain Error saying why. */
  decode(input: Buffer, outSize: number): Buffer;
}

const HISTORY = 32768;

export class MszipDecoder implements BlockDecoder {
  private history: Buffer = Buffer.alloc(0);

  decode(input: Buffer, outSize: number): Buffer {
    if (input.length < 2 || input[0] !== 0x43 || input[1] !== 0x4b) {
      throw new Error('MSZIP block does not start with the "CK" signature');
    }
    let out: Buffer;
    try {
      out = inflateRawSync(input.subarray(2), {
        ...(this.history.length > 0 ? { dictionary: this.history } : {}),
        // One byte more than allowed so that an over-long block is detected rather than silently cut.
        maxOutputLength: CAB_BLOCK_MAX + 1,
      });
    } catch (e) {
      throw new Error(`MSZIP block does not inflate: ${(e as Error).message}`);
    }
    if (out.length !== outSize) {
      throw new Error(`MSZIP block inflates to ${out.length} bytes, header says ${outSize}`);
    }
    this.history = out.length >= HISTORY ? out : Buffer.concat([this.history, out]).subarray(-HISTORY);
    return out;
  }
}
