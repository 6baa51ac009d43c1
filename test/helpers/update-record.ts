/**
 * Update records made by hand, as the compiler takes them (engine/catalog/builder.ts): a leaf Software update to
 * install, with no relations, rules or text unless the test gives them — each test sets what it is about.
 */
import { CatalogBuilder } from '../../engine/catalog/builder.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { decodeCatalog, encodeCatalog } from '../../engine/catalog/file.js';
import { buildScanIndex } from '../../engine/fleet/scan-index.js';
import type { UpdateRecord } from '../../engine/model.js';

export function updateRecord(r: Pick<UpdateRecord, 'updateId' | 'revisionId'> & Partial<UpdateRecord>): UpdateRecord {
  return {
    revisionNumber: 1,
    updateType: 'Software',
    isLeaf: true,
    isBundle: false,
    deploymentAction: 'Install',
    explicitlyDeployable: true,
    categories: [],
    prerequisites: [],
    bundledUpdates: [],
    bundledByRevisionIds: [],
    supersedes: [],
    supersededByRevisionIds: [],
    rules: {},
    severity: '',
    cves: [],
    localized: [],
    ...r,
  };
}

/** A catalog compiled from `records` (its source named `path`). */
export function catalogOf(records: readonly UpdateRecord[], path = 'test'): Catalog {
  const b = new CatalogBuilder();
  for (const r of records) b.addRecord(r);
  return new Catalog(b.build({ kind: 'records', path, sha256: '' }));
}

/** The same, through the catalog file's encoding and back, scan index included: the catalog as a scan loads it from disk. */
export function loadedCatalogOf(records: readonly UpdateRecord[], path = 'test'): Catalog {
  const b = new CatalogBuilder();
  for (const r of records) b.addRecord(r);
  const data = b.build({ kind: 'records', path, sha256: '' });
  return new Catalog(decodeCatalog(encodeCatalog(data, { scanIndex: buildScanIndex })));
}
