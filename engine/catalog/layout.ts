/**
 * A catalog's data as one block of memory: its typed arrays (the string table's bytes and offsets among them) placed
 * end to end at aligned offsets, and everything else as a small plain object. The catalog file stores this block as
 * it is (file.ts), so loading one makes views over the bytes read instead of copying ~37 MB of arrays out of them;
 * a worker pool lays it out in shared memory the same way (pool/shared-catalog.ts), and a file read into shared
 * memory is that layout already.
 */
import type { PatchscanError } from '../errors.js';

export type ArrayKind = 'Uint8Array' | 'Uint32Array' | 'Int32Array';
type TypedArray = Uint8Array | Uint32Array | Int32Array;
const CTORS = { Uint8Array, Uint32Array, Int32Array } as const;

/** Where each typed array is: its path in the data ("updates.rules"), its kind, byte offset and element count. */
export type ArrayPlaces = Readonly<Record<string, readonly [ArrayKind, number, number]>>;

export interface SplitData {
  /** The data without its typed arrays (each left as null). */
  readonly rest: unknown;
  readonly arrays: readonly (readonly [string, TypedArray])[];
}

/** The kind a typed array is laid out as (a Buffer is a Uint8Array); undefined for anything else. */
export function arrayKind(v: unknown): ArrayKind | undefined {
  return v instanceof Uint8Array
    ? 'Uint8Array'
    : v instanceof Uint32Array
      ? 'Uint32Array'
      : v instanceof Int32Array
        ? 'Int32Array'
        : undefined;
}

export function splitArrays(data: unknown): SplitData {
  const arrays: [string, TypedArray][] = [];
  const strip = (v: unknown, path: string): unknown => {
    if (arrayKind(v)) {
      arrays.push([path, v as TypedArray]);
      return null;
    }
    if (Array.isArray(v) || v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x, path ? `${path}.${k}` : k)]));
  };
  return { rest: strip(data, ''), arrays };
}

const align8 = (n: number): number => (n + 7) & ~7;

/** Places `arrays` one after the other from byte 0, each at a multiple of 8; `size` is the bytes they take. */
export function placeArrays(arrays: SplitData['arrays']): { places: ArrayPlaces; size: number } {
  const places: Record<string, [ArrayKind, number, number]> = {};
  let size = 0;
  for (const [path, a] of arrays) {
    size = align8(size);
    places[path] = [arrayKind(a)!, size, a.length];
    size += a.byteLength;
  }
  return { places, size };
}

/** Copies `arrays` to their places in `into`, whose byte `base` is place 0. */
export function writeArrays(arrays: SplitData['arrays'], places: ArrayPlaces, into: ArrayBufferLike, base: number): void {
  for (const [path, a] of arrays) {
    const [kind, offset, length] = places[path]!;
    new CTORS[kind](into as ArrayBuffer, base + offset, length).set(a);
  }
}

/**
 * The first path under `v` that holds null: splitArrays leaves null where each array was and the data holds no null of
 * its own, so after withViews a null is an array the file's places left out.
 */
export function nullPath(v: unknown, path = ''): string | undefined {
  if (v === null) return path;
  if (typeof v !== 'object' || arrayKind(v)) return undefined;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const found = nullPath(x, path ? `${path}.${k}` : k);
    if (found !== undefined) return found;
  }
  return undefined;
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * `rest` (owned: it is changed) with each array of `places` put back as a view over `buffer` (byte `base` is place
 * 0; nothing is copied). Places come from a file, so each is checked — a known kind, within `limit` bytes of `base`,
 * aligned, under an object `rest` has — and `bad` words what is wrong.
 */
export function withViews(
  rest: unknown,
  places: unknown,
  buffer: ArrayBufferLike,
  base: number,
  limit: number,
  bad: (why: string) => PatchscanError,
): unknown {
  if (places === null || typeof places !== 'object' || Array.isArray(places)) throw bad('its array table is not a table');
  for (const [path, place] of Object.entries(places as Record<string, unknown>)) {
    const [kind, offset, length] = Array.isArray(place) ? (place as unknown[]) : [];
    const Ctor = typeof kind === 'string' && Object.hasOwn(CTORS, kind) ? CTORS[kind as ArrayKind] : undefined;
    if (!Ctor || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || (offset as number) < 0 || (length as number) < 0)
      throw bad(`its array ${path} has no valid place`);
    const at = base + (offset as number);
    if ((offset as number) + (length as number) * Ctor.BYTES_PER_ELEMENT > limit || at % Ctor.BYTES_PER_ELEMENT !== 0)
      throw bad(`its array ${path} lies outside the file or unaligned`);
    const keys = path.split('.');
    let o = rest as Record<string, unknown> | null;
    for (const k of keys.slice(0, -1)) {
      const next = UNSAFE_KEYS.has(k) || !o || !Object.hasOwn(o, k) ? undefined : o[k];
      o = next !== null && typeof next === 'object' ? (next as Record<string, unknown>) : null;
    }
    const last = keys[keys.length - 1]!;
    if (!o || UNSAFE_KEYS.has(last) || !Object.hasOwn(o, last) || o[last] !== null) throw bad(`its array ${path} has no place in the data`);
    o[last] = new Ctor(buffer as ArrayBuffer, at, length as number);
  }
  return rest;
}
