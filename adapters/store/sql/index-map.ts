/**
 * A catalog index map (catalog_index_maps.map: per index of one catalog, the index of the same update revision in
 * another, -1 for none) and a result set's packed outcomes (result_sets.outcomes) as stored: little-endian 32-bit
 * integers, whatever the machine's byte order. An index map is stored as the same 32 bits read unsigned.
 */
import { PatchscanError } from '../../../engine/errors.js';

/** A set's packed outcomes (result_sets.outcomes) as stored. */
export function encodeWords(words: Uint32Array): Buffer {
  const out = Buffer.allocUnsafe(words.length * 4);
  for (let k = 0; k < words.length; k++) out.writeUInt32LE(words[k]!, k * 4);
  return out;
}

export function decodeWords(bytes: Uint8Array, what = "a stored result set's outcomes"): Uint32Array {
  if (bytes.length % 4 !== 0) throw new PatchscanError('INTERNAL', `${what}: ${bytes.length} bytes, not a multiple of 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out = new Uint32Array(bytes.length / 4);
  for (let k = 0; k < out.length; k++) out[k] = view.getUint32(k * 4, true);
  return out;
}

export function encodeIndexMap(map: Int32Array): Buffer {
  return encodeWords(new Uint32Array(map.buffer, map.byteOffset, map.length));
}

export function decodeIndexMap(bytes: Uint8Array): Int32Array {
  return new Int32Array(decodeWords(bytes, 'a stored catalog index map').buffer);
}

/** Whether two index maps are the same (a pair of catalogs has one stored map; a set is placed by that one only). */
export function sameIndexMap(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}
