/**
 * A result set's counts per classification and per product (result_set_groups: what the classification and product
 * drill-downs list per machine), by the counting rule (engine/scanner/counting.ts). Written with every new set
 * (scan-service.ts), and recounted here for sets stored before the rule: their `required` counted superseded Required
 * updates too. That recount needs the set's catalog (a row's classification and products are the catalog's), so the
 * migration only marks those sets (result_sets.groups_stale) and the first process that can load catalogs — `serve`
 * at start, any scan run (`worker`, `rescan`, serve's scan loop) — recounts them from their stored outcomes. Until a
 * set is recounted the store leaves its group counts out of every report.
 */
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFileInPieces } from '../../engine/catalog/file.js';
import { PatchscanError } from '../../engine/errors.js';
import { bucketOf, countedAs, emptyCounts, type CountBucket, type OutcomeCounts } from '../../engine/scanner/counting.js';
import type { ResultGroupRow, SiteStore } from '../store/port.js';
import { storeCatalogSource, type CatalogSource } from './catalog-files.js';

/**
 * A catalog's classifications and products numbered once (per update, on first use): a tally then adds an outcome with
 * a few array reads instead of building a key string per group per outcome (that was half a carried set's cost). An
 * update's groups come straight from the catalog's category arrays, each category named once (not a list of names per
 * update: ~60 MB of garbage for a 50,000-revision catalog).
 */
const CLASSIFICATION = 1,
  PRODUCT = 2;

/** A bucket's slot in a group's counts: 0 installed, 1 required, 2 unknown, -1 none (a group row keeps those three). */
const slotOf = (bucket: CountBucket): number => (bucket === 'installed' ? 0 : bucket === 'required' ? 1 : bucket === 'unknown' ? 2 : -1);

/** Per packed outcome's low four bits (state << 2 | supersedence): its group slot, or NO_OUTCOME. */
const NO_OUTCOME = -2;
const SLOT_OF_LOW_BITS = Int8Array.from({ length: 16 }, (_, b) => ((b & 3) === 3 ? NO_OUTCOME : slotOf(bucketOf(b >>> 2, b & 3))));

class GroupNumbers {
  readonly kinds: ResultGroupRow['kind'][] = [];
  readonly names: string[] = [];
  private readonly byKey = new Map<string, number>();
  /** Per category (its index in the catalog, or -1 - its UpdateId's string number when not in it) and kind: its group. */
  private readonly byCategory = new Map<number, number>();
  /**
   * Update i's groups are list[start[i] .. start[i + 1]): its classification's, then its products' (the order a tally
   * first sees them in). Flat and made for every update at once (a few ms per catalog): a tally reads two typed arrays
   * per outcome, not an object per update scattered over the heap (a third of a carried set's tally went there).
   */
  readonly start: Int32Array;
  readonly list: Int32Array;

  constructor(private readonly catalog: Catalog) {
    const c = catalog.data.categories;
    const typeKind = new Uint8Array(c.type.reduce((m, n) => Math.max(m, n + 1), 0));
    for (const n of new Set(c.type)) {
      const type = catalog.str(n);
      typeKind[n] = type === 'UpdateClassification' ? CLASSIFICATION : type === 'Product' ? PRODUCT : 0;
    }
    this.start = new Int32Array(catalog.size + 1);
    let total = 0;
    for (let i = 0; i < catalog.size; i++) {
      this.start[i] = total;
      total++; // its classification
      for (let k = c.offsets[i]!; k < c.offsets[i + 1]!; k++) if (typeKind[c.type[k]!] === PRODUCT) total++;
    }
    this.start[catalog.size] = total;
    this.list = new Int32Array(total);
    for (let i = 0; i < catalog.size; i++) {
      let at = this.start[i]!;
      let n = -1;
      for (let k = c.offsets[i]!; k < c.offsets[i + 1]! && n < 0; k++)
        if (typeKind[c.type[k]!] === CLASSIFICATION) n = this.category('classification', k);
      this.list[at++] = n >= 0 ? n : this.number('classification', 'Unclassified');
      for (let k = c.offsets[i]!; k < c.offsets[i + 1]!; k++)
        if (typeKind[c.type[k]!] === PRODUCT) this.list[at++] = this.category('product', k);
    }
  }

  /** The group of category reference k, named as every report names it (Catalog.categoryName). */
  private category(kind: ResultGroupRow['kind'], k: number): number {
    const c = this.catalog.data.categories;
    const target = c.target[k]!;
    const key = (target >= 0 ? target : -1 - c.guid[k]!) * 2 + (kind === 'product' ? 1 : 0);
    let n = this.byCategory.get(key);
    if (n === undefined) {
      const id = this.catalog.str(c.guid[k]!);
      n = this.number(kind, this.catalog.categoryName(kind === 'product' ? 'Product' : 'UpdateClassification', target, id));
      this.byCategory.set(key, n);
    }
    return n;
  }

  private number(kind: ResultGroupRow['kind'], name: string): number {
    const key = `${kind}\u0000${name}`;
    let n = this.byKey.get(key);
    if (n === undefined) {
      n = this.names.length;
      this.byKey.set(key, n);
      this.kinds.push(kind);
      this.names.push(name);
    }
    return n;
  }
}
const numbers = new WeakMap<Catalog, GroupNumbers>();

/** Adds outcomes up per classification and per product of `catalog` (indexes are the set's catalog's). */
export class GroupTally {
  private readonly numbers: GroupNumbers;
  /** Per group: installed, required, unknown (the three a group row keeps). */
  private counts = new Int32Array(96);
  /** Groups in the order first added to (a group any outcome is in has a row, even with all three at zero). */
  private readonly order: number[] = [];
  private seen = new Uint8Array(32);

  constructor(catalog: Catalog) {
    let n = numbers.get(catalog);
    if (n === undefined) numbers.set(catalog, (n = new GroupNumbers(catalog)));
    this.numbers = n;
  }

  add(index: number, bucket: CountBucket): void {
    this.addUpdate(index, slotOf(bucket));
  }

  /**
   * Adds a set's packed outcomes (fleet/result-set.ts), each counted by the counting rule (its bucket from the word's
   * low four bits, checked: an outcome no state and supersedence make throws), and returns how many fall in each
   * bucket — in one pass, with no per-outcome lookup by bucket name (a carried set's every outcome, scan-service.ts).
   */
  addWords(words: Uint32Array): OutcomeCounts {
    const byBits = new Int32Array(16);
    for (let k = 0; k < words.length; k++) {
      const w = words[k]!;
      byBits[w & 15]!++;
      const slot = SLOT_OF_LOW_BITS[w & 15]!;
      if (slot === NO_OUTCOME) bucketOf((w >>> 2) & 3, w & 3); // throws
      this.addUpdate(w >>> 4, slot);
    }
    const counts = emptyCounts();
    for (let b = 0; b < 16; b++) if (byBits[b]! > 0) counts[bucketOf(b >>> 2, b & 3)] += byBits[b]!;
    return counts;
  }

  rows(): ResultGroupRow[] {
    const { kinds, names } = this.numbers;
    return this.order.map((g) => ({
      kind: kinds[g]!,
      name: names[g]!,
      installed: this.counts[g * 3]!,
      required: this.counts[g * 3 + 1]!,
      unknown: this.counts[g * 3 + 2]!,
    }));
  }

  /** Update `index`'s groups, each tallied in `slot`. */
  private addUpdate(index: number, slot: number): void {
    const { start, list } = this.numbers;
    if (!(index >= 0 && index < start.length - 1)) throw new RangeError(`no update has index ${index} in this catalog`);
    for (let k = start[index]!; k < start[index + 1]!; k++) this.tally(list[k]!, slot);
  }

  private tally(g: number, slot: number): void {
    if (g >= this.seen.length) {
      const seen = new Uint8Array(Math.max(g + 1, this.seen.length * 2));
      seen.set(this.seen);
      this.seen = seen;
      const counts = new Int32Array(seen.length * 3);
      counts.set(this.counts);
      this.counts = counts;
    }
    if (this.seen[g] === 0) {
      this.seen[g] = 1;
      this.order.push(g);
    }
    if (slot >= 0) this.counts[g * 3 + slot]!++;
  }
}

export interface RecountRun {
  /** Sets recounted by this process. */
  readonly recounted: number;
  /** Sets left marked because their catalog could not be read here (their group counts stay out of reports). */
  readonly left: number;
}

/**
 * Recounts every marked result set, catalog by catalog, each set in a transaction of its own that first unmarks it:
 * two processes recounting at once never both write a set (the second finds it unmarked and skips it).
 */
export async function recountStaleGroups(
  store: SiteStore,
  catalogs: CatalogSource | string,
  log: (line: string) => void = () => undefined,
): Promise<RecountRun> {
  // Where the catalog files come from: the scanner's source (a `worker --catalog-from`'s server), or a site's catalogs/.
  const files = typeof catalogs === 'string' ? storeCatalogSource(store, catalogs) : catalogs;
  let recounted = 0,
    left = 0;
  // Only ids and catalog ids: small rows, read once (sets are per profile and catalog, not per client).
  const stale = await store.staleGroupSets();
  for (let k = 0; k < stale.length;) {
    const catalogId = stale[k]!.catalog_id;
    let end = k;
    while (end < stale.length && stale[end]!.catalog_id === catalogId) end++;
    let catalog: Catalog;
    try {
      const row = await store.catalog(catalogId);
      if (!row) throw new PatchscanError('NOT_FOUND', `catalog ${catalogId} is not recorded`);
      catalog = new Catalog(await readCatalogFileInPieces(await files.file(row)));
    } catch (e) {
      left += end - k;
      log(
        `${end - k} result set(s) of catalog ${catalogId} keep counts of the old counting rule per classification and product ` +
          `(left out of reports until their machines are scanned again): ${(e as Error).message}`,
      );
      k = end;
      continue;
    }
    for (; k < end; k++) {
      const setId = stale[k]!.id;
      const tally = new GroupTally(catalog);
      let rows;
      try {
        rows = await store.resultUpdates(setId);
      } catch (e) {
        if (PatchscanError.is(e, 'NOT_FOUND')) continue; // pruned meanwhile (no scan read it): nothing to recount
        throw e;
      }
      try {
        for (const r of rows) tally.add(r.update_index, countedAs(r.state, r.superseded));
      } catch (e) {
        // A stored row this catalog cannot count (a damaged database): that set stays marked, the others go on.
        if (!(e instanceof RangeError)) throw e;
        left++;
        log(
          `result set ${setId} keeps counts of the old counting rule per classification and product (left out of reports ` +
            `until its machines are scanned again): a stored row cannot be counted: ${e.message}`,
        );
        continue;
      }
      if (await store.replaceResultGroups(setId, tally.rows())) recounted++;
    }
  }
  if (recounted > 0) log(`recounted ${recounted} result set(s) per classification and product by the counting rule`);
  return { recounted, left };
}
