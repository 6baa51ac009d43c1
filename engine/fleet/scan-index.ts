/**
 * Builds a catalog's scan index (catalog/scan-index.ts says what it is): the parts scans would build on their first
 * machine, built once when the catalog file is written: `writeCatalogFile(path, data, { scanIndex: buildScanIndex })`.
 */
import { Catalog } from '../catalog/catalog.js';
import type { CatalogData } from '../catalog/data.js';
import { SCAN_INDEX_VERSION, withoutScanIndex, type ScanIndex } from '../catalog/scan-index.js';
import { buildPrerequisiteClasses } from '../scanner/prerequisite-classes.js';
import { buildSectionPlaces, scanScheme } from '../scanner/section-memo.js';
import { buildFlatLayout } from './flat-decisions.js';
import { RuleProgram } from '../eval/program.js';

/** The index of `data`, built from it (never taken from an index read with it). */
export function buildScanIndex(data: CatalogData): ScanIndex {
  const catalog = new Catalog(withoutScanIndex(data));
  const classes = buildPrerequisiteClasses(catalog);
  const built = buildFlatLayout(catalog);
  const sections = buildSectionPlaces(catalog);
  // Numbered in the order scans decide updates (the layout's), else the catalog's.
  const leaves = new RuleProgram(catalog).preparedLeaves(built?.updateAt);
  const scheme = scanScheme();
  if (built === undefined) return { version: SCAN_INDEX_VERSION, scheme, classes, sections, leaves };
  // Stored as 32-bit numbers: the file keeps to the array kinds format 2 began with, so a build from before the
  // index still reads a file written with one (and leaves the index unread). flatLayout() narrows it again.
  const flat = { ...built, classAt: built.classAt instanceof Int32Array ? built.classAt : Int32Array.from(built.classAt) };
  return { version: SCAN_INDEX_VERSION, scheme, classes, flat, sections, leaves };
}
