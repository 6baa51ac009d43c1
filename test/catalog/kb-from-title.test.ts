/**
 * KB of CBS updates (issue 15, item 5): the real extended fragment of the cumulative update KB5026368 has no
 * KBArticleID, so the KB comes from the title's "(KB5026368)". The command line's side (catalog show, explain and
 * scan by that KB) is test/cli/kb-from-title.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseExtendedFragment } from '../../adapters/xml/fragments.js';
import { cbsCatalog, REAL_EXTENDED, TITLE } from '../helpers/kb5026368.js';

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
