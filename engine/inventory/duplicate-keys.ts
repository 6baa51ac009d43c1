/**
 * The first member name given twice in one object of an inventory document. JSON.parse and msgpackr keep the last of
 * two equal names without a word, so `{"os": {…}, …, "os": {…}}` would be read as whichever came last — a document
 * two readers could read differently. validate.ts refuses names that differ only in case; these find the exact
 * repeats its parsed object no longer shows. Run on documents that parsed (their syntax is known good), on the slow
 * path only. The quick profile readers (fleet/json-profile.ts, msgpack-profile.ts) digest the members they keep byte
 * for byte, so a repeat there matches no document that passed here; a left-out member (identity, collection time, an
 * unread detail) given twice sends the machine down this path.
 * Iterative, with a stack of open objects, so a deep document cannot exhaust the call stack.
 */
import { Unpackr } from 'msgpackr';
import { msgpackValueEnd } from './msgpack-frames.js';

export interface DuplicateKey {
  readonly name: string;
  /** A character offset into the JSON text, or a byte offset into the msgpack document: where the second one starts. */
  readonly at: number;
}

/** Names seen in one open object: a list while short (most objects have a handful), a set past that. */
class Names {
  private list: string[] = [];
  private set: Set<string> | undefined;

  /** Adds `name`; false when it was already there. */
  add(name: string): boolean {
    if (this.set !== undefined) {
      if (this.set.has(name)) return false;
      this.set.add(name);
      return true;
    }
    if (this.list.includes(name)) return false;
    this.list.push(name);
    if (this.list.length > 16) this.set = new Set(this.list);
    return true;
  }
}

const QUOTE = 0x22,
  BACKSLASH = 0x5c;

/** In JSON text that JSON.parse accepted: the first repeated member name, compared as JSON.parse decodes it. */
export function duplicateJsonMember(text: string): DuplicateKey | undefined {
  // One entry per open container: its names for an object, null for an array.
  const open: (Names | null)[] = [];
  let expectName = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // The string's end by native search (strings are most of an inventory's bytes): the next quote not escaped,
      // i.e. not after an odd run of backslashes.
      const start = i;
      let end = text.indexOf('"', start + 1);
      for (;;) {
        if (end < 0) return undefined; // not JSON: JSON.parse refuses it before this runs
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
        if (slashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      i = end;
      if (expectName) {
        expectName = false;
        const raw = text.slice(start + 1, end);
        const name = raw.includes('\\') ? (JSON.parse(text.slice(start, end + 1)) as string) : raw;
        if (!open[open.length - 1]!.add(name)) return { name, at: start };
      }
    } else if (c === 0x7b /* { */) {
      open.push(new Names());
      expectName = true;
    } else if (c === 0x5b /* [ */) open.push(null);
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) expectName = open.length > 0 && open[open.length - 1] !== null;
  }
  return undefined;
}

/** Past this many keys in one map, its keys go in a set (a pairwise check would grow with the square). */
const PAIRWISE_MAX = 32;

// Reused between calls (the slow path decodes one document at a time per thread): the open containers, and the key
// ranges of the open maps, each map's contiguous (a nested map's keys are dropped when it closes).
let left = new Float64Array(64);
let firstKey = new Int32Array(64);
let isMapAt = new Uint8Array(64);
let keyFrom = new Int32Array(256);
let keyTo = new Int32Array(256);

const grown = <A extends Float64Array | Int32Array | Uint8Array>(a: A, need: number): A => {
  if (need < a.length) return a;
  const b = new (a.constructor as new (n: number) => A)(Math.max(need + 1, a.length * 2));
  b.set(a);
  return b;
};

const sameBytes = (b: Uint8Array, f1: number, t1: number, f2: number, t2: number): boolean => {
  const len = t1 - f1;
  if (len !== t2 - f2) return false;
  // Long keys by a native compare: a hostile map of 32 near-equal megabyte keys must not cost seconds.
  if (len > 64) return Buffer.compare(view(b, f1, t1), view(b, f2, t2)) === 0;
  for (let i = 0; i < len; i++) if (b[f1 + i] !== b[f2 + i]) return false;
  return true;
};
const view = (b: Uint8Array, from: number, to: number): Buffer => Buffer.from(b.buffer, b.byteOffset + from, to - from);

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const PROTO = Buffer.from('__proto__');
/** Whether the 9 bytes at `at` spell __proto__ (without a view: nine-byte keys such as "processor" are common). */
const isProto = (b: Uint8Array, at: number): boolean => {
  for (let i = 0; i < PROTO.length; i++) if (b[at + i] !== PROTO[i]) return false;
  return true;
};

/**
 * A key as the property name msgpackr makes of it (unpack.js readKey/asSafeString): a string as itself, but
 * `__proto__` becomes `__proto_`; a number, boolean or nil as its String(). Stored ranges: `from` ≥ 0 a string's
 * payload, else the whole encoding of another scalar at -from - 1.
 */
function propertyName(b: Uint8Array, from: number, to: number): string {
  if (from >= 0) {
    const s = view(b, from, to).toString('utf8');
    return s === '__proto__' ? '__proto_' : s;
  }
  return String(unpackr.unpack(view(b, -from - 1, to)));
}

/**
 * In a msgpack document msgpackr decoded: the first repeated map key, as msgpackr names properties — `{36: …, "36": …}`
 * and `{"__proto_": …, "__proto__": …}` are repeats, since both keys land on one property. String keys compare by
 * their UTF-8 bytes (equal strings, whichever str format carries them) with no allocation for maps of up to
 * PAIRWISE_MAX keys; a larger map, or one with a key that is not a plain string, compares property names in a set.
 */
export function duplicateMsgpackKey(b: Uint8Array): DuplicateKey | undefined {
  let depth = 0,
    keys = 0,
    pos = 0;
  const n = b.length;
  // The property names of maps compared by name, by depth (rare: a large licensing map, a key that is a number).
  let sets: (Set<string> | undefined)[] | undefined;
  while (pos < n) {
    const top = depth - 1;
    const isKey = top >= 0 && isMapAt[top] === 1 && left[top]! % 2 === 0;
    if (top >= 0) left[top]!--;
    const h = b[pos]!;
    let count = -1,
      isMap = false,
      header = 1;
    if (h >= 0x80 && h <= 0x8f) ((count = h & 0x0f), (isMap = true));
    else if (h >= 0x90 && h <= 0x9f) count = h & 0x0f;
    else if (h === 0xde || h === 0xdc) ((count = (b[pos + 1]! << 8) | b[pos + 2]!), (isMap = h === 0xde), (header = 3));
    else if (h === 0xdf || h === 0xdd)
      ((count = b[pos + 1]! * 0x1000000 + ((b[pos + 2]! << 16) | (b[pos + 3]! << 8) | b[pos + 4]!)), (isMap = h === 0xdf), (header = 5));
    if (count < 0) {
      const end = scalarEnd(b, pos, h);
      if (end < 0 || end > n) return undefined; // not msgpack: decodeInventory refused it before this runs (msgpackUtf8AndExt)
      if (isKey) {
        const str = h >= 0xa0 && h <= 0xbf ? pos + 1 : h === 0xd9 ? pos + 2 : h === 0xda ? pos + 3 : h === 0xdb ? pos + 5 : -1;
        const from = str >= 0 ? str : -pos - 1; // negative: not a string (-1 so that offset 0 stays negative)
        const byName =
          sets?.[top] !== undefined || keys - firstKey[top]! >= PAIRWISE_MAX || str < 0 || (end - str === PROTO.length && isProto(b, str));
        let repeated = false;
        if (!byName) {
          for (let k = firstKey[top]!; k < keys && !repeated; k++) repeated = sameBytes(b, keyFrom[k]!, keyTo[k]!, from, end);
        } else {
          sets ??= [];
          let set = sets[top];
          if (set === undefined) {
            set = sets[top] = new Set();
            for (let k = firstKey[top]!; k < keys; k++) set.add(propertyName(b, keyFrom[k]!, keyTo[k]!));
          }
          const name = propertyName(b, from, end);
          repeated = set.has(name);
          set.add(name);
        }
        if (repeated) return { name: propertyName(b, from, end), at: pos };
        keyFrom = grown(keyFrom, keys);
        keyTo = grown(keyTo, keys);
        keyFrom[keys] = from;
        keyTo[keys] = end;
        keys++;
      }
      pos = end;
    } else {
      pos += header;
      if (count > 0) {
        left = grown(left, depth);
        firstKey = grown(firstKey, depth);
        isMapAt = grown(isMapAt, depth);
        left[depth] = isMap ? count * 2 : count;
        isMapAt[depth] = isMap ? 1 : 0;
        firstKey[depth] = keys;
        if (sets !== undefined) sets[depth] = undefined;
        depth++;
      }
    }
    while (depth > 0 && left[depth - 1] === 0) {
      depth--;
      keys = firstKey[depth]!;
      if (sets !== undefined) sets[depth] = undefined;
    }
    if (depth === 0) return undefined; // the document's one value is done
  }
  return undefined;
}

/**
 * The end of the scalar at `pos` (header `h`): the types inventories are made of inline — fixint, nil, booleans,
 * strings, ints, floats —, the rest by msgpackValueEnd. A call a value was most of this check's time.
 */
function scalarEnd(b: Uint8Array, pos: number, h: number): number {
  if (h <= 0x7f || h >= 0xe0 || h === 0xc0 || h === 0xc2 || h === 0xc3) return pos + 1;
  if (h >= 0xa0 && h <= 0xbf) return pos + 1 + (h & 0x1f);
  switch (h) {
    case 0xd9:
      return pos + 2 + b[pos + 1]!;
    case 0xda:
      return pos + 3 + ((b[pos + 1]! << 8) | b[pos + 2]!);
    case 0xcc:
    case 0xd0:
      return pos + 2;
    case 0xcd:
    case 0xd1:
      return pos + 3;
    case 0xca:
    case 0xce:
    case 0xd2:
      return pos + 5;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return pos + 9;
    default:
      return msgpackValueEnd(b, pos);
  }
}
