/**
 * The cumulative update KB5026368 from its real core and extended fragments (test/fixtures/fragments): its extended
 * fragment has no KBArticleID, so its KB comes from the title. The localized fragment (l/en/<RevisionId>) is not among
 * the samples, so titles are written here as Microsoft titles cumulative updates. Used by the catalog's side
 * (test/catalog/kb-from-title.test.ts) and the command line's (test/cli/kb-from-title.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCoreFragment, parseExtendedFragment, parseLocalizedFragment } from '../../adapters/xml/fragments.js';
import { CatalogBuilder } from '../../engine/catalog/builder.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { FIXTURES } from './tmp.js';

const read = (name: string): string => readFileSync(join(FIXTURES, 'fragments', name), 'utf8');
const localized = (language: string, title: string): string =>
  `<LocalizedProperties><Language>${language}</Language><Title>${title}</Title></LocalizedProperties>`;

export const TITLE = '2023-05 Cumulative Update for Windows 11 for arm64-based Systems (KB5026368)';
const REV = 51_000_001;

/** The real extended fragment (no KBArticleID). */
export const REAL_EXTENDED = read('wsus-m0-cbs__cbs-rollupfix-extended.xml');

/** The CBS update from its real fragments, with the given extended fragment text and titles ([language, title]). */
export function cbsCatalog(extended: string, titles: readonly (readonly [string, string])[]): Catalog {
  const core = parseCoreFragment(read('wsus-m0-cbs__cbs-rollupfix-core-reduced.xml'), 'c');
  const b = new CatalogBuilder();
  b.addPackageEntry({
    updateId: core.updateId,
    revisionNumber: core.revisionNumber,
    revisionId: REV,
    isLeaf: true,
    isBundle: false,
    deploymentAction: 'Install',
    categories: [],
    prerequisites: [],
    languages: [],
    bundledByRevisionIds: [],
    supersededByRevisionIds: [],
    payloadFiles: 0,
  });
  b.addCore(REV, core);
  b.addExtended(REV, parseExtendedFragment(extended, 'x'));
  for (const [lang, title] of titles) b.addLocalized(REV, parseLocalizedFragment(localized(lang, title), `l/${lang}`));
  return new Catalog(b.build({ kind: 'records', path: 'kb5026368', sha256: '' }));
}
