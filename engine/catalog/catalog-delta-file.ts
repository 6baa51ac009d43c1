/**
 * A catalog delta (catalog-delta.ts) as bytes: made once, when a sync puts a new catalog in service, and read by every
 * process that carries result sets over to it, which then needs neither the old catalog (loading it was ~0.4 s at
 * 50,000 revisions) nor the diff (~0.6 s). Only the new catalog is needed to read it back, and it must be the one the
 * delta was made for: its size and the SHA-256 of its update ids are checked (or, when the new catalog was read from
 * the same file when the delta was made and when it is read back, that file's digest).
 *
 * msgpack (typed arrays kept as such) of a versioned record. A record that does not fit — another version, another
 * catalog, an array of the wrong length or an index out of range — is refused with COMPILED_BAD_FILE: the caller
 * then diffs the catalogs itself. These checks keep a bad record from being read out of bounds; they cannot see a
 * damaged byte that leaves a value in range (a seed flag cleared, say): bytes kept where they can be damaged need a
 * checksum around them (the site's stored carry-over has a SHA-256, adapters/site/catalog-carry-over.ts).
 */
import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import { PatchscanError } from '../errors.js';
import type { Catalog } from './catalog.js';
import { fileDigestOf } from './file.js';
import type { CatalogDelta } from './catalog-delta.js';
import { holdsString } from './string-table.js';

const FORMAT = 'patchscan-catalog-delta';
const VERSION = 1;
const packr = new Packr({ useRecords: false, moreTypes: true });

type Stored = Omit<CatalogDelta, 'to'> & {
  readonly format: string;
  readonly version: number;
  readonly toSize: number;
  readonly toIds: string;
  /** The new catalog's file digest (file.ts fileDigestOf), when it was read from a file; absent in older records. */
  readonly toFile?: string;
};

/**
 * The SHA-256 of a catalog's update ids in index order, each followed by a newline: what ties a stored delta to its
 * new catalog. Hashed from the string table's UTF-8 bytes (the bytes each id decodes from, which encodeStrings made
 * from the id), copied end to end into one buffer: decoding 50,000 ids to hash them again was ~30 ms of every
 * carry-over's start, and left them cached in the reader for nothing.
 */
export function idsDigest(c: Catalog): string {
  const table = c.data.strings;
  const { offsets, bytes } = table;
  const ids = c.data.updates.updateId;
  const held = (id: number): boolean => holdsString(table, id); // else it reads as ''
  let length = 0;
  for (let i = 0; i < c.size; i++) length += (held(ids[i]!) ? offsets[ids[i]! + 1]! - offsets[ids[i]!]! : 0) + 1;
  const all = new Uint8Array(length);
  let at = 0;
  for (let i = 0; i < c.size; i++) {
    if (held(ids[i]!)) {
      const from = offsets[ids[i]!]!,
        to = offsets[ids[i]! + 1]!;
      all.set(bytes.subarray(from, to), at);
      at += to - from;
    }
    all[at++] = 0x0a;
  }
  return createHash('sha256').update(all).digest('hex');
}

export function encodeCatalogDelta(d: CatalogDelta): Buffer {
  const { to, ...rest } = d;
  const file = fileDigestOf(to.data);
  const stored: Stored = {
    format: FORMAT,
    version: VERSION,
    toSize: to.size,
    toIds: idsDigest(to),
    ...(file === undefined ? {} : { toFile: file }),
    ...rest,
  };
  // pack() returns a view of msgpackr's shared buffer: copied before the next pack reuses it.
  return Buffer.from(packr.pack(stored));
}

/** The delta `bytes` hold, for `to` (the new catalog it was made for). */
export function decodeCatalogDelta(bytes: Uint8Array, to: Catalog): CatalogDelta {
  const bad = (why: string): PatchscanError => new PatchscanError('COMPILED_BAD_FILE', `stored catalog delta: ${why}`);
  let s: Stored;
  try {
    s = packr.unpack(bytes) as Stored;
  } catch (e) {
    throw bad(`does not decode: ${(e as Error).message}`);
  }
  if (s?.format !== FORMAT) throw bad('not a catalog delta');
  if (s.version !== VERSION) throw bad(`version ${s.version} is not the supported version ${VERSION}`);
  // The same file (its digest, read from its header): the same update ids, without hashing them again (~25–40 ms of
  // a carry-over's start: 50,000 ids read from all over the string table). Else the ids decide.
  const file = fileDigestOf(to.data);
  const sameFile = file !== undefined && s.toFile === file;
  if (s.toSize !== to.size || (!sameFile && s.toIds !== idsDigest(to))) throw bad('it was made for another catalog');
  const n = to.size;
  const m = s.fromSize;
  if (!Number.isInteger(m) || m < 0) throw bad('the old catalog size is not a count');
  const order = s.stateOrder;
  const check = (name: string, a: unknown, type: 'i32' | 'u8' | 'u32', length: number | undefined, min: number, max: number): void => {
    const ok = type === 'i32' ? a instanceof Int32Array : type === 'u8' ? a instanceof Uint8Array : a instanceof Uint32Array;
    if (!ok) throw bad(`${name} is not an array of the expected type`);
    const arr = a as Int32Array | Uint8Array | Uint32Array;
    if (length !== undefined && arr.length !== length) throw bad(`${name} has ${arr.length} entries, not ${length}`);
    for (let k = 0; k < arr.length; k++) if (arr[k]! < min || arr[k]! > max) throw bad(`${name}[${k}] = ${arr[k]} is out of range`);
  };
  check('oldIndex', s.oldIndex, 'i32', n, -1, m - 1);
  check('newIndex', s.newIndex, 'i32', m, -1, n - 1);
  check('affected', s.affected, 'u8', n, 0, 2);
  check('affectedList', s.affectedList, 'i32', undefined, 0, n - 1);
  check('stateOrder', order, 'i32', undefined, 0, n - 1);
  check('orderPosition', s.orderPosition, 'i32', n, -1, order.length - 1);
  check('seed', s.seed, 'u8', n, 0, 1);
  check('sameId', s.sameId, 'i32', n, -1, m - 1);
  check('sameIdOld', s.sameIdOld, 'i32', m, -1, n - 1);
  check('supersedersChanged', s.supersedersChanged, 'u8', n, 0, 1);
  check('fromReportable', s.fromReportable, 'u8', m, 0, 1);
  const reads = s.orderReads;
  check('orderReads.offsets', reads?.offsets, 'u32', order.length + 1, 0, Number.MAX_SAFE_INTEGER);
  check('orderReads.target', reads.target, 'u32', reads.offsets[order.length], 0, order.length - 1);
  for (let k = 0; k < order.length; k++) if (reads.offsets[k]! > reads.offsets[k + 1]!) throw bad('orderReads.offsets go back');
  for (const name of ['added', 'changed', 'removed'] as const)
    if (!Array.isArray(s[name]) || !s[name].every((id) => typeof id === 'string')) throw bad(`${name} is not a list of UpdateIds`);
  if (typeof s.keepsOrder !== 'boolean' || !Number.isInteger(s.stateAffected)) throw bad('its flags do not decode');
  if (s.fullRescan !== undefined && typeof s.fullRescan !== 'string') throw bad('its full-rescan reason is not text');
  const { format: _f, version: _v, toSize: _n, toIds: _i, toFile: _file, ...delta } = s;
  return { ...delta, to };
}
