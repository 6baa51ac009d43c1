/**
 * A compiled catalog laid out in one SharedArrayBuffer, so that every worker thread reads the same memory:
 * each typed array of {@link CatalogData} becomes a view at a fixed offset, and the string table becomes UTF-8
 * bytes plus offsets, decoded on first use (and cached per thread). Only a small JSON "layout" is cloned.
 */
import { Catalog } from '../catalog/catalog.js';
import type { CatalogData } from '../catalog/data.js';

type TypedArray = Uint8Array | Uint32Array | Int32Array;
const CTORS = { Uint8Array, Uint32Array, Int32Array } as const;
type CtorName = keyof typeof CTORS;

export interface SharedCatalog {
  readonly buffer: SharedArrayBuffer;
  /** path → [constructor, byte offset, element count] */
  readonly arrays: Readonly<Record<string, readonly [CtorName, number, number]>>;
  /** Everything that is not a typed array (and not the strings), as plain data. */
  readonly rest: unknown;
  readonly stringBytes: readonly [number, number]; // byte offset, byte length
  readonly stringOffsets: readonly [number, number]; // byte offset, count (+1)
}

function view(name: CtorName, buffer: SharedArrayBuffer, offset: number, length: number): TypedArray {
  const Ctor = CTORS[name] as unknown as new (b: ArrayBufferLike, o: number, l: number) => TypedArray;
  return new Ctor(buffer, offset, length);
}

function isTyped(v: unknown): v is TypedArray {
  return v instanceof Uint8Array || v instanceof Uint32Array || v instanceof Int32Array;
}

export function toShared(data: CatalogData): SharedCatalog {
  const arrays: Record<string, [CtorName, number, number]> = {};
  const found: [string, TypedArray][] = [];
  const strip = (v: unknown, path: string): unknown => {
    if (isTyped(v)) {
      found.push([path, v]);
      return null;
    }
    if (Array.isArray(v) || v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x, path ? `${path}.${k}` : k)]));
  };
  const { strings, ...others } = data;
  const rest = strip(others, '');
  // Measured first, then written straight into the shared memory: a Buffer per string was ~0.2 s of a scan's start
  // for the 50,000-revision catalog (hundreds of thousands of strings).
  const lengths = new Uint32Array(strings.length);
  let blobLength = 0;
  strings.forEach((s, i) => (blobLength += lengths[i] = Buffer.byteLength(s, 'utf8')));
  let size = 0;
  const align = (n: number): number => (n + 7) & ~7;
  for (const [path, a] of found) {
    size = align(size);
    arrays[path] = [a.constructor.name as CtorName, size, a.length];
    size += a.byteLength;
  }
  size = align(size);
  const offsetsAt = size;
  size += (strings.length + 1) * 4;
  size = align(size);
  const bytesAt = size;
  size += blobLength;
  const buffer = new SharedArrayBuffer(Math.max(8, size));
  for (const [path, a] of found) {
    const [name, off, len] = arrays[path]!;
    view(name, buffer, off, len).set(a);
  }
  const offs = new Uint32Array(buffer, offsetsAt, strings.length + 1);
  const bytes = Buffer.from(buffer, bytesAt, blobLength);
  let p = 0;
  strings.forEach((s, i) => {
    offs[i] = p;
    p += bytes.write(s, p, lengths[i]!, 'utf8');
  });
  offs[strings.length] = p;
  return { buffer, arrays, rest, stringBytes: [bytesAt, blobLength], stringOffsets: [offsetsAt, strings.length + 1] };
}

/** Rebuilds the catalog over the shared memory: typed arrays are views, nothing is copied. */
export function fromShared(shared: SharedCatalog): { data: CatalogData; stringAt: (id: number) => string } {
  const data = structuredClone(shared.rest) as Record<string, unknown>;
  for (const [path, [name, off, len]] of Object.entries(shared.arrays)) {
    const keys = path.split('.');
    let o = data;
    for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
    o[keys[keys.length - 1]!] = view(name, shared.buffer, off, len);
  }
  data.strings = [];
  const offs = new Uint32Array(shared.buffer, shared.stringOffsets[0], shared.stringOffsets[1]);
  // A Buffer over the shared memory (no copy): it decodes a slice in place.
  const bytes = Buffer.from(shared.buffer, shared.stringBytes[0], shared.stringBytes[1]);
  const cache = new Map<number, string>();
  const stringAt = (id: number): string => {
    let s = cache.get(id);
    if (s === undefined) {
      s = bytes.toString('utf8', offs[id], offs[id + 1]);
      cache.set(id, s);
    }
    return s;
  };
  return { data: data as unknown as CatalogData, stringAt };
}

/** Catalogs built by sharedCatalog(), with their layout: a pool given one shares its memory instead of copying it. */
const layouts = new WeakMap<Catalog, SharedCatalog>();

/**
 * The catalog over shared memory, for a caller that scans through a pool: the calling thread then reads the memory its
 * workers read, instead of holding a copy of its own beside it — 36 MiB of arrays, and the string table as strings
 * (~30 MiB of heap for the 50,000-revision catalog, decoded here only as they are asked for). `data` can be let go.
 */
export function sharedCatalog(data: CatalogData): Catalog {
  const shared = toShared(data);
  const { data: view, stringAt } = fromShared(shared);
  const c = new Catalog(view, stringAt);
  layouts.set(c, shared);
  return c;
}

/** The shared layout of a catalog: the one it was built over, or a copy of it in shared memory. */
export function sharedLayout(c: Catalog): SharedCatalog {
  return layouts.get(c) ?? toShared(c.data);
}
