/**
 * A compiled catalog laid out in one SharedArrayBuffer, so that every worker thread reads the same memory:
 * each typed array of {@link CatalogData} — the string table's bytes and offsets among them — is a view at a fixed
 * offset (catalog/layout.ts; strings are decoded on first use, per thread). Only a small "layout" is cloned.
 */
import { Catalog } from '../catalog/catalog.js';
import type { CatalogData } from '../catalog/data.js';
import { PatchscanError } from '../errors.js';
import { arrayKind, placeArrays, splitArrays, withViews, writeArrays, type ArrayPlaces } from '../catalog/layout.js';
import { attachScanIndex, scanIndexOf, type ScanIndex } from '../catalog/scan-index.js';

export interface SharedCatalog {
  readonly buffer: SharedArrayBuffer;
  /** path → [kind, byte offset in buffer, element count] */
  readonly arrays: ArrayPlaces;
  /** Everything that is not a typed array, as plain data. */
  readonly rest: unknown;
}

/**
 * The layout of `data` in shared memory: where its arrays already are when every one is over the same
 * SharedArrayBuffer (a catalog file read with `shared`: nothing is copied), else a copy into a new one.
 */
export function toShared(data: CatalogData): SharedCatalog {
  // The catalog's scan index goes with it (workers then build none), under the key a catalog file keeps it.
  const index = scanIndexOf(data);
  const { rest, arrays } = splitArrays(index === undefined ? data : { ...data, scanIndex: index });
  const first = arrays[0]?.[1].buffer;
  if (first instanceof SharedArrayBuffer && arrays.every(([, a]) => a.buffer === first)) {
    const places = Object.fromEntries(arrays.map(([path, a]) => [path, [arrayKind(a)!, a.byteOffset, a.length] as const]));
    return { buffer: first, arrays: places, rest };
  }
  const { places, size } = placeArrays(arrays);
  const buffer = new SharedArrayBuffer(Math.max(8, size));
  writeArrays(arrays, places, buffer, 0);
  return { buffer, arrays: places, rest };
}

/** Rebuilds the catalog's data over the shared memory: typed arrays are views, nothing is copied. */
export function fromShared(shared: SharedCatalog): CatalogData {
  const bad = (why: string): PatchscanError => new PatchscanError('INTERNAL', `a shared catalog's layout is wrong: ${why}`);
  const { scanIndex, ...data } = withViews(
    structuredClone(shared.rest),
    shared.arrays,
    shared.buffer,
    0,
    shared.buffer.byteLength,
    bad,
  ) as CatalogData & {
    scanIndex?: ScanIndex;
  };
  return attachScanIndex(data, scanIndex);
}

/** Catalogs built by sharedCatalog(), with their layout: a pool given one shares its memory instead of copying it. */
const layouts = new WeakMap<Catalog, SharedCatalog>();

/**
 * The catalog over shared memory, for a caller that scans through a pool: the calling thread then reads the memory its
 * workers read, instead of holding a copy of its own beside it (36 MiB for the 50,000-revision catalog). `data` can
 * be let go.
 */
export function sharedCatalog(data: CatalogData): Catalog {
  const shared = toShared(data);
  const c = new Catalog(fromShared(shared));
  layouts.set(c, shared);
  return c;
}

/** The shared layout of a catalog: the one it was built over, or a copy of it in shared memory. */
export function sharedLayout(c: Catalog): SharedCatalog {
  return layouts.get(c) ?? toShared(c.data);
}
