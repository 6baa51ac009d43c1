/**
 * A compiled catalog file put in service on a site as a sync's swap does it, without the sync (the benchmarks and
 * tests that put edited catalogs in service one after another): recorded once by its SHA-256, then made current.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Site } from '../adapters/site/site.js';
import type { CatalogRow } from '../adapters/store/port.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile } from '../engine/catalog/file.js';

/** Records `file` (unless a catalog of its SHA-256 is) and makes it current; gives its id and the catalog it replaced. */
export async function catalogInService(
  site: Site,
  file: string,
  source: string,
): Promise<{ readonly id: number; readonly previous: CatalogRow | undefined }> {
  const previous = await site.store.currentCatalog();
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  const id =
    (await site.store.catalogBySha(sha256))?.id ??
    (await site.store.addCatalog({
      sha256,
      source,
      path: file,
      revisions: new Catalog(readCatalogFile(file)).size,
      signer: null,
      signed_at: null,
    }));
  await site.store.setSetting('current_catalog', String(id));
  return { id, previous };
}
