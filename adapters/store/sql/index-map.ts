/**
 * A catalog index map (catalog_index_maps.map: per index of one catalog, the index of the same update revision in
 * another, -1 for none) and a result set's packed outcomes (result_sets.outcomes) as stored: little-endian 32-bit
 * integers, whatever the machine's byte order.
 */
import { PatchscanError } from '../../../engine/errors.js';

export function encodeIndexMap(map: Int32Array): Buffer {
  const out = Buffer.allocUnsafe(map.length * 4);
  for (let k = 0; k < map.length; k++) out.writeInt32LE(map[k]!, k * 4);
  return out;
}

export function decodeIndexMap(bytes: Uint8Array): Int32Array {
  if (bytes.length % 4 !== 0)
    throw new PatchscanError('INTERNAL', `a stored catalog index map has ${bytes.length} bytes, not a multiple of 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out = new Int32Array(bytes.length / 4);
  for (let k = 0; k < out.length; k++) out[k] = view.getInt32(k * 4, true);
  return out;
}

/** Whether two index maps are the same (a pair of catalogs has one stored map; a set is placed by that one only). */
export function sameIndexMap(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** A set's packed outcomes (result_sets.outcomes) as stored: little-endian uint32s. */
export function encodeWords(words: Uint32Array): Buffer {
  const out = Buffer.allocUnsafe(words.length * 4);
  for (let k = 0; k < words.length; k++) out.writeUInt32LE(words[k]!, k * 4);
  return out;
}

export function decodeWords(bytes: Uint8Array): Uint32Array {
  if (bytes.length % 4 !== 0)
    throw new PatchscanError('INTERNAL', `a stored result set's outcomes have ${bytes.length} bytes, not a multiple of 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out = new Uint32Array(bytes.length / 4);
  for (let k = 0; k < out.length; k++) out[k] = view.getUint32(k * 4, true);
  return out;
}
