/**
 * KB of CBS updates (issue 15, item 5): the real extended fragment of the cumulative update KB5026368 has no
 * KBArticleID, so the KB comes from the title's "(KB5026368)". The command line's side (catalog show, explain and
 * scan by that KB) is test/cli/kb-from-title.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCoreFragment, parseExtendedFragment, parseLocalizedFragment } from '../../adapters/xml/fragments.js';
import { CatalogBuilder } from '../../engine/catalog/builder.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { FIXTURES } from '../helpers/tmp.js';

const read = (name: string): string => readFileSync(join(FIXTURES, 'fragments', name), 'utf8');
const localized = (language: string, title: string): string =>
  `<LocalizedProperties><Language>${language}</Language><Title>${title}</Title></LocalizedProperties>`;

// The real core and extended fragments; the localized fragment (l/en/<RevisionId>) is not among the samples, so its
// title is written here as Microsoft titles cumulative updates.
const TITLE = '2023-05 Cumulative Update for Windows 11 for arm64-based Systems (KB5026368)';
const REV = 51_000_001;

/** The CBS update from its real fragments, with the given extended fragment text and titles. */
function cbsCatalog(extended: string, titles: [string, string][]): Catalog {
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

const REAL_EXTENDED = read('wsus-m0-cbs__cbs-rollupfix-extended.xml');

describe('KB from the title when the extended fragment has no KBArticleID', () => {
  it('the real KB5026368 fragment: no KBArticleID, so the title gives 5026368 (source: title), found by KB', () => {
    expect(parseExtendedFragment(REAL_EXTENDED, 'x').kb).toBeUndefined();
    const c = cbsCatalog(REAL_EXTENDED, [['en', TITLE]]);
    expect(c.kb(0)).toBe('5026368');
    expect(c.kbSource(0)).toBe('title');
    expect(c.findByKb('KB5026368')).toEqual([0]);
    expect(c.find('5026368')).toEqual([0]);
  });

  it.each([
    [
      'a KBArticleID wins over the title',
      '<ExtendedProperties DefaultPropertiesLanguage="en"><KBArticleID>5026361</KBArticleID></ExtendedProperties>',
      [['en', TITLE]],
      '5026361',
      'fragment',
    ],
    [
      'English first, then other languages',
      REAL_EXTENDED,
      [
        ['de', 'Kumulatives Update (KB5026369)'],
        ['en', TITLE],
      ],
      '5026368',
      'title',
    ],
    [
      'another language when English has none',
      REAL_EXTENDED,
      [
        ['en', 'Cumulative Update'],
        ['de', 'Kumulatives Update (kb5026368)'],
      ],
      '5026368',
      'title',
    ],
    [
      'a title without "(KBnnnnnnn)" leaves no KB',
      REAL_EXTENDED,
      [['en', 'Cumulative Update for Windows 11, see KB5026368']],
      '',
      undefined,
    ],
    [
      'a "(KBnnnnnnn)" that does not end the title is not this update\'s',
      REAL_EXTENDED,
      [['en', 'Cumulative Update (KB5026368) for x64-based Systems']],
      '',
      undefined,
    ],
    ['no title at all leaves no KB', REAL_EXTENDED, [], '', undefined],
  ] as const)('%s', (_n, extended, titles, kb, source) => {
    const c = cbsCatalog(
      extended,
      titles.map(([l, t]) => [l, t]),
    );
    expect([c.kb(0), c.kbSource(0)]).toEqual([kb, source]);
    expect(c.findByKb(kb || 'KB5026368')).toEqual(kb ? [0] : []);
  });
});
