/** Bad input gets a clear error naming the file and position, and no compiled catalog is written. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCatalog } from '../../adapters/catalog/import.js';
import { CabWriter } from '../../adapters/cab/writer.js';
import { parseIndexXml } from '../../adapters/xml/index-xml.js';
import { parseCoreFragment } from '../../adapters/xml/fragments.js';
import { PackageXmlParser } from '../../adapters/xml/package-xml.js';
import { PatchscanError } from '../../engine/errors.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';

function thrown(fn: () => unknown): PatchscanError {
  try {
    fn();
  } catch (e) {
    if (PatchscanError.is(e)) return e;
    throw e;
  }
  throw new Error('expected an error');
}

const INDEX =
  '<INDEX VERSION="1"><CABLIST XOR="0"><CAB NAME="package.cab" /><CAB NAME="package2.cab" RANGESTART="0" FILESDIR="1" /></CABLIST></INDEX>';
const PACKAGE =
  '<OfflineSyncPackage><Updates><Update ' +
  'UpdateId="11111111-2222-3333-4444-555555555555" RevisionNumber="1" ' +
  'RevisionId="10" IsLeaf="true" /></Updates></OfflineSyncPackage>';
const CORE = '<UpdateIdentity UpdateID="11111111-2222-3333-4444-555555555555" RevisionNumber="1" /><Properties UpdateType="Software" />';

/** Builds a small wsusscn2-shaped cabinet whose parts can be replaced. */
function buildCab(dir: string, parts: { index?: string; pkg?: string; core?: string } = {}): string {
  const pkgCab = join(dir, 'package.cab');
  const w1 = new CabWriter(pkgCab);
  w1.add('package.xml', Buffer.from(parts.pkg ?? PACKAGE));
  w1.finish();
  const rangeCab = join(dir, 'package2.cab');
  const w2 = new CabWriter(rangeCab);
  w2.add('c/10', Buffer.from(parts.core ?? CORE));
  w2.finish();
  const outer = join(dir, 'wsusscn2.cab');
  const w = new CabWriter(outer);
  w.add('index.xml', Buffer.from(parts.index ?? INDEX));
  w.add('package.cab', readFileSync(pkgCab));
  w.add('package2.cab', readFileSync(rangeCab));
  w.finish();
  return outer;
}

describe('malformed XML', () => {
  it('a malformed core fragment names the range cabinet, the fragment, line and column', () => {
    const dir = tempDir();
    const cab = buildCab(dir, { core: '<UpdateIdentity UpdateID="x" RevisionNumber="1" />\n<Properties UpdateType="Software">' });
    const out = join(dir, 'out.pscat');
    const e = thrown(() => importCatalog(cab, { out }));
    expect(e.code).toBe('XML_MALFORMED');
    expect(e.message).toMatch(/^package2\.cab\/c\/10:\d+:\d+: /);
    expect(e.details).toMatchObject({ file: 'package2.cab/c/10', line: 2 });
    expect(existsSync(out)).toBe(false);
  });

  it('a package.xml that lists no update while fragments describe some is refused, not read from the fragments alone', () => {
    const dir = tempDir();
    const out = join(dir, 'o.pscat');
    const e = thrown(() => importCatalog(buildCab(dir, { pkg: '<OfflineSyncPackage><Updates></Updates></OfflineSyncPackage>' }), { out }));
    expect(e.code).toBe('CATALOG_BAD_FORMAT');
    expect(e.message).toMatch(/package\.xml lists no updates, while 1 fragment\(s\) describe some/);
    expect(existsSync(out)).toBe(false);
    // The same fragment with its package.xml entry imports; so does a folder of fragments with no package.xml at all.
    expect(importCatalog(buildCab(tempDir()), { out }).catalog.updates.count).toBe(1);
    const folder = tempDir();
    mkdirSync(join(folder, 'c'));
    writeFileSync(join(folder, 'c', '10'), CORE);
    expect(importCatalog(folder, { out }).catalog.updates.count).toBe(1);
  });

  it('one RevisionId for two updates (package.xml twice, or a core fragment naming another update) is refused: fragments are found by it', () => {
    const other = '99999999-2222-3333-4444-555555555555';
    const twice = PACKAGE.replace(
      '</Updates>',
      `<Update UpdateId="${other}" RevisionNumber="1" RevisionId="10" IsLeaf="true" /></Updates>`,
    );
    const cases = [
      [{ pkg: twice }, /RevisionId 10 is given to two updates, 11111111-2222-3333-4444-555555555555 and 99999999-/],
      [
        { core: CORE.replace('11111111-2222', '99999999-2222') },
        /RevisionId 10: package\.xml lists update 11111111-2222-3333-4444-555555555555, but its core fragment is update 99999999-/,
      ],
    ] as const;
    for (const [parts, message] of cases) {
      const dir = tempDir();
      const out = join(dir, 'o.pscat');
      const e = thrown(() => importCatalog(buildCab(dir, parts), { out }));
      expect(e.code).toBe('CATALOG_BAD_FORMAT');
      expect(e.message).toMatch(message);
      expect(existsSync(out)).toBe(false);
    }
    // The same UpdateId in another case, and another revision number, are the same update: imported.
    const dir = tempDir();
    const same = CORE.replace('11111111-2222-3333-4444-555555555555', '11111111-2222-3333-4444-555555555555'.toUpperCase());
    expect(
      importCatalog(buildCab(dir, { core: same.replace('RevisionNumber="1"', 'RevisionNumber="2"') }), { out: join(dir, 'o.pscat') })
        .catalog.updates.count,
    ).toBe(1);
  });

  it('malformed package.xml names the file, line and column (streaming parser)', () => {
    const dir = tempDir();
    const cab = buildCab(dir, {
      pkg:
        '<OfflineSyncPackage>\n<Updates>\n<Update UpdateId="a" RevisionNumber="1" ' +
        'RevisionId="10"></Updat>\n</Updates></OfflineSyncPackage>',
    });
    const e = thrown(() => importCatalog(cab, { out: join(dir, 'o.pscat') }));
    expect(e.code).toBe('XML_MALFORMED');
    expect(e.message).toMatch(/^package\.cab\/package\.xml:3:\d+: /);
    expect(e.details.line).toBe(3);
  });

  it.each([
    [
      'RevisionId=""',
      '<Update UpdateId="a" RevisionNumber="1" RevisionId="" />',
      /RevisionNumber and RevisionId as whole numbers \(got "1", ""\)/,
    ],
    ['RevisionNumber="2.5"', '<Update UpdateId="a" RevisionNumber="2.5" RevisionId="10" />', /as whole numbers \(got "2\.5", "10"\)/],
    [
      'a SupersededBy revision without a numeric Id',
      '<Update UpdateId="a" RevisionNumber="1" RevisionId="10"><SupersededBy><Revision Id="x" /></SupersededBy></Update>',
      /<Revision> in SupersededBy needs Id as a whole number \(got "x"\)/,
    ],
  ])('package.xml with %s is refused, naming it, instead of read as revision 0 (or NaN)', (_name, update, message) => {
    const p = new PackageXmlParser('package.xml', { onUpdate: () => undefined });
    const e = thrown(() => {
      p.write(Buffer.from(`<OfflineSyncPackage><Updates>${update}</Updates></OfflineSyncPackage>`));
      p.end();
    });
    expect(e.code).toBe('XML_MALFORMED');
    expect(e.message).toMatch(message);
  });

  it('refuses DTDs and entities (billion laughs) in fragments and package.xml', () => {
    const lol = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>';
    const e1 = thrown(() => parseCoreFragment(lol, 'c/1'));
    expect(e1.code).toBe('XML_MALFORMED');
    expect(e1.message).toMatch(/DTDs and entity declarations are refused/);
    const p = new PackageXmlParser('package.xml', { onUpdate: () => undefined });
    const e2 = thrown(() => {
      p.write(Buffer.from(`<?xml version="1.0"?>${lol}`));
      p.end();
    });
    expect(e2.code).toBe('XML_MALFORMED');
    expect(e2.message).toMatch(/^package\.xml:1:\d+: DTDs are refused/);
  });

  it('index.xml errors name the problem', () => {
    expect(
      thrown(() => parseIndexXml('<INDEX><CABLIST><CAB NAME="../x.cab" RANGESTART="0"/></CABLIST></INDEX>', 'index.xml')).message,
    ).toMatch(/unsafe NAME/);
    expect(
      thrown(() => parseIndexXml('<INDEX><CABLIST><CAB NAME="p2.cab" RANGESTART="0"/></CABLIST></INDEX>', 'index.xml')).message,
    ).toMatch(/no cabinet without RANGESTART/);
    expect(thrown(() => parseIndexXml('<INDEX><CABLIST><CAB NAME="p.cab"></CABLIST></INDEX>', 'index.xml')).code).toBe('XML_MALFORMED');
  });

  it('a range cabinet listed in index.xml but missing is named', () => {
    const dir = tempDir();
    const cab = buildCab(dir, { index: INDEX.replace('</CABLIST>', '<CAB NAME="package3.cab" RANGESTART="100" /></CABLIST>') });
    const e = thrown(() => importCatalog(cab, { out: join(dir, 'o.pscat') }));
    expect(e.code).toBe('CATALOG_MISSING_FILE');
    expect(e.message).toMatch(/package3\.cab, which is missing/);
  });
});

describe('truncated cabinet', () => {
  it('names the file and the offset, and writes nothing', () => {
    const dir = tempDir();
    const whole = readFileSync(join(FIXTURES, 'wsusscn2', 'wsusscn2.cab'));
    const cut = join(dir, 'wsusscn2-cut.cab');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const out = join(dir, 'o.pscat');
    const e = thrown(() => importCatalog(cut, { out }));
    expect(e.code).toBe('CAB_TRUNCATED');
    expect(e.message).toContain('wsusscn2-cut.cab');
    expect(e.message).toMatch(/offset \d+/);
    expect(e.details.offset).toBeTypeOf('number');
    expect(existsSync(out)).toBe(false);
  });
});
