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
import { readCatalogFile } from '../../engine/catalog/file.js';
import { PatchscanError } from '../../engine/errors.js';
import { countedAs, type CountBucket } from '../../engine/scanner/counting.js';
import type { ResultGroupRow, SiteStore } from '../store/port.js';
import { storeCatalogSource, type CatalogSource } from './catalog-files.js';

/** Adds outcomes up per classification and per product of `catalog` (indexes are the set's catalog's). */
export class GroupTally {
  private readonly groups = new Map<
    string,
    { kind: ResultGroupRow['kind']; name: string; installed: number; required: number; unknown: number }
  >();

  constructor(private readonly catalog: Catalog) {}

  add(index: number, bucket: CountBucket): void {
    this.tally('classification', this.catalog.classification(index) || 'Unclassified', bucket);
    for (const p of this.catalog.products(index)) this.tally('product', p, bucket);
  }

  rows(): ResultGroupRow[] {
    return [...this.groups.values()];
  }

  private tally(kind: ResultGroupRow['kind'], name: string, bucket: CountBucket): void {
    const key = `${kind}\u0000${name}`;
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { kind, name, installed: 0, required: 0, unknown: 0 }));
    if (bucket === 'installed') g.installed++;
    else if (bucket === 'required') g.required++;
    else if (bucket === 'unknown') g.unknown++;
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
      catalog = new Catalog(readCatalogFile(await files.file(row)));
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
      for (const r of await store.resultUpdates(setId)) tally.add(r.update_index, countedAs(r.state, r.superseded));
      if (await store.replaceResultGroups(setId, tally.rows())) recounted++;
    }
  }
  if (recounted > 0) log(`recounted ${recounted} result set(s) per classification and product by the counting rule`);
  return { recounted, left };
}
