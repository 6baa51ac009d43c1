/**
 * Every real update fragment in the samples parses into the model with its rules; assertions name specific
 * rules and attributes taken from the files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCoreFragment, parseCoreFragments, parseExtendedFragment, parseLocalizedFragment } from '../../adapters/xml/fragments.js';
import type { LeafRule, RuleNode } from '../../engine/model.js';
import { FIXTURES } from '../helpers/tmp.js';

const FRAG = join(FIXTURES, 'fragments');
const read = (name: string): string => readFileSync(join(FRAG, name), 'utf8');

/** All leaf rules of a tree, depth first. */
function leaves(n: RuleNode | undefined): LeafRule[] {
  if (!n) return [];
  switch (n.kind) {
    case 'and':
    case 'or':
      return n.children.flatMap(leaves);
    case 'not':
      return leaves(n.child);
    case 'rule':
      return [n, ...leaves(n.child)];
    default:
      return [];
  }
}

describe('real core fragments (MS-WUSP / wsusscn2 c/ form)', () => {
  it('detectoid 853953d3: WindowsVersion with BuildNumber, RegDword UBR thresholds', () => {
    const c = parseCoreFragment(read('wsus-m0-native__flow__000001__853953d3-98c9-4e6d-9479-84baaa84f28c.core.xml'), '853953d3');
    expect(c.updateId).toBe('853953d3-98c9-4e6d-9479-84baaa84f28c');
    expect(c.revisionNumber).toBe(202);
    expect(c.updateType).toBe('Detectoid');
    expect(c.prerequisites).toEqual([{ kind: 'update', updateId: '8c3fcc84-7410-4a95-8b89-a166a0190486' }]);
    const root = c.rules.IsInstalled!;
    expect(root.kind).toBe('or');
    const ls = leaves(root);
    expect(ls.filter((l) => l.type === 'WindowsVersion')).toHaveLength(6);
    expect(ls[0]).toMatchObject({
      type: 'WindowsVersion',
      family: 'base',
      attrs: { Comparison: 'LessThan', MajorVersion: '10', MinorVersion: '0', BuildNumber: '14393' },
    });
    const ubr = ls.filter((l) => l.type === 'RegDword');
    expect(ubr.map((l) => l.attrs.Data)).toEqual(['320', '699', '1356', '2515']);
    expect(ubr[0].attrs).toMatchObject({
      Key: 'HKEY_LOCAL_MACHINE',
      Subkey: 'SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion',
      Value: 'UBR',
      Comparison: 'GreaterThanOrEqualTo',
    });
    expect(c.rules.IsInstallable).toBeUndefined();
  });

  it('detectoid 0aac58ee: Or of WindowsVersion, Not(RegValueExists REG_DWORD), RegDword', () => {
    const c = parseCoreFragment(read('wsus-m0-native__flow__000001__0aac58ee-82a0-4452-a7fa-19f68398f1fa.core.xml'), '0aac58ee');
    const root = c.rules.IsInstalled!;
    expect(root.kind).toBe('or');
    if (root.kind !== 'or') throw new Error();
    expect(root.children.map((k) => k.kind)).toEqual(['rule', 'not', 'rule']);
    const not = root.children[1];
    expect(not.kind === 'not' && not.child).toMatchObject({ type: 'RegValueExists', attrs: { Value: 'UUPFlags', Type: 'REG_DWORD' } });
  });

  it('detectoid 378c0b3f: IsInstalled True', () => {
    const c = parseCoreFragment(read('wsus-m0-native__flow__000001__378c0b3f-b3be-471d-ac6c-21e0f96d7de4.core.xml'), '378c0b3f');
    expect(c.rules.IsInstalled).toEqual({ kind: 'const', value: true });
  });

  it.each([
    ['3333902a-bef2-4507-b42a-fe8219658d52', 38],
    ['21d48c56-b34a-4ba7-a7f4-f8c7b963aff5', undefined],
  ])('detectoid %s: deep And/Or/Not of registry and file rules', (id, csidl) => {
    const c = parseCoreFragment(read(`wsus-m0-native__flow__000001__${id}.core.xml`), id);
    const ls = leaves(c.rules.IsInstalled);
    const types = new Set(ls.map((l) => l.type));
    for (const t of ['RegDword', 'RegKeyExists', 'RegValueExists']) expect(types).toContain(t);
    expect(ls.find((l) => l.type === 'RegKeyExists')!.attrs.Subkey).toBe('SYSTEM\\CurrentControlSet\\Services\\WinDefend');
    if (csidl) {
      expect(types).toContain('FileExistsPrependRegSz');
      expect(ls.find((l) => l.type === 'FileExists')!.attrs.Csidl).toBe(String(csidl));
    }
  });

  it('detectoid 9e682aaa (Defender NIS) parses fully, no unsupported nodes', () => {
    const c = parseCoreFragment(read('wsus-m0-native__flow__000001__9e682aaa-9547-43b8-8b74-c3183d1d8aaa.core.xml'), '9e682aaa');
    expect(JSON.stringify(c.rules)).not.toContain('unsupported');
    expect(leaves(c.rules.IsInstalled)[0]).toMatchObject({
      type: 'RegKeyExists',
      attrs: { Subkey: 'SOFTWARE\\Microsoft\\Windows Defender\\NIS' },
    });
  });

  it('bundle a2fef9b0 (KB2267602): supersedes 10, prerequisites 2 plain + 2 IsCategory, 4 AtLeastOne bundle groups, no rules', () => {
    const c = parseCoreFragment(read('wsus-m0-wsusss__wusp-reference__a2fef9b0-7951-4c2c-a42b-9e351dd1c1fe-r200.core.xml'), 'a2fef9b0');
    expect(c.explicitlyDeployable).toBe(true);
    expect(c.supersedes).toHaveLength(10);
    expect(c.supersedes[0]).toBe('ce84983e-b20e-44d7-a412-1fd91fc7bda8');
    expect(c.prerequisites).toEqual([
      { kind: 'update', updateId: 'be4048db-157c-4532-9582-7f05099590c9' },
      { kind: 'update', updateId: '0aac58ee-82a0-4452-a7fa-19f68398f1fa' },
      { kind: 'atLeastOne', isCategory: true, updateIds: ['e0789628-ce08-4437-be74-2495b842f43b'] },
      { kind: 'atLeastOne', isCategory: true, updateIds: ['8c3fcc84-7410-4a95-8b89-a166a0190486'] },
    ]);
    expect(c.bundledUpdates).toHaveLength(4);
    expect(c.bundledUpdates.every((g) => g.kind === 'atLeastOne')).toBe(true);
    const first = c.bundledUpdates[0];
    expect(first.kind === 'atLeastOne' && first.children[0]).toEqual({
      updateId: '90f961a9-1756-4493-aade-644c37589961',
      revisionNumber: 200,
    });
    expect(c.bundledUpdates.reduce((n, g) => n + (g.kind === 'atLeastOne' ? g.children.length : 1), 0)).toBe(124);
    expect(c.rules).toEqual({});
  });

  it('CBS rollup (KB5026368): CbsPackageInstalled/Installable with the assembly identity as metadata', () => {
    const c = parseCoreFragment(read('wsus-m0-cbs__cbs-rollupfix-core-reduced.xml'), 'cbs');
    expect(c.prerequisites[2]).toEqual({ kind: 'atLeastOne', isCategory: false, updateIds: ['72e7624a-5b00-45d2-b92f-e561c0a6a160'] });
    const inst = c.rules.IsInstalled!;
    expect(inst.kind).toBe('and');
    expect(leaves(inst).map((l) => l.type)).toEqual(['CbsPackageInstalled', 'RegDword']);
    expect(leaves(inst)[0].family).toBe('cbs');
    expect(c.rules.IsInstallable).toMatchObject({ kind: 'rule', type: 'CbsPackageInstallable' });
    expect(c.metadata).toMatchObject({
      element: 'CbsPackageApplicabilityMetadata',
      attrs: {
        name: 'Package_for_RollupFix',
        version: '22000.1936.1.9',
        processorArchitecture: 'arm64',
        identity: 'Package_for_RollupFix~31bf3856ad364e35~arm64~~22000.1936.1.9',
        packageIdentifier: 'KB5026368',
      },
    });
  });

  it('OS installer: ProductReleaseInstalled and DeviceAttribute (newer unprefixed rules)', () => {
    const c = parseCoreFragment(read('wsus-m0-cbs__osinstaller-core.xml'), 'osinstaller');
    expect(c.rules.IsInstalled).toMatchObject({
      kind: 'rule',
      type: 'ProductReleaseInstalled',
      family: 'update',
      attrs: { Name: 'Client.OS.RS2.ARM64', Version: '10.0.22621.5909' },
    });
    const da = leaves(c.rules.IsInstallable).filter((l) => l.type === 'DeviceAttribute');
    expect(da).toHaveLength(20);
    expect(da.at(-1)!.attrs).toEqual({ Name: 'OSVersion', Type: 'Version', Comparison: 'LessThan', Value: '10.0.22622.0' });
  });

  it('WSUSpect Win7 fragment (already wrapped in <Core>): FileVersion Csidl 37 and Not(CbsPackageInstalledByIdentity)', () => {
    const c = parseCoreFragment(read('ref-44005109947__WSUSpect-whitepaper-Context-IS-2015__figure2-core-fragment.xml'), 'wsuspect');
    expect(c.updateId).toBe('53979536-176e-46c2-9f61-bcf68381c065');
    expect(c.rules.IsInstalled).toMatchObject({
      type: 'FileVersion',
      attrs: { Version: '6.1.7601.22045', Comparison: 'GreaterThanOrEqualTo', Path: '\\conhost.exe', Csidl: '37' },
    });
    expect(c.rules.IsInstallable).toMatchObject({
      kind: 'not',
      child: { type: 'CbsPackageInstalledByIdentity', attrs: { PackageIdentity: 'InternetExplorer-Package~11.2.9600.16428' } },
    });
  });

  it('concatenated fragments split per UpdateIdentity; the malformed last entry is reported, not guessed', () => {
    const text = read('ref-51058199935__core-fragments-snippet.xml');
    expect(() => parseCoreFragments(text, 'snippet')).toThrowError(
      /snippet#4: UpdateIdentity 3b4b8621-726e-43a6-b43b-37d07ec7019f has no valid RevisionNumber/,
    );
    // Without the malformed tail, the three well-formed fragments parse.
    const good = text.slice(0, text.indexOf('<UpdateIdentity UpdateID="3B4B8621')) + '</Updates>';
    const all = parseCoreFragments(good, 'snippet');
    expect(all.map((c) => [c.updateId, c.updateType])).toEqual([
      ['e6cf1350-c01b-414d-a61f-263d14d133b4', 'Category'],
      ['2bf7ed9c-6f43-493a-b156-db20f08c44c4', 'Detectoid'],
      ['6aece9a4-19e3-4bc7-a20c-070a5e31aff4', 'Detectoid'],
    ]);
    expect(all[1].rules.IsInstalled).toMatchObject({
      type: 'RegSz',
      attrs: { Value: 'InstallLanguage', Comparison: 'EqualTo', Data: '0409' },
    });
  });
});

describe('extended and localized fragments', () => {
  it('CBS extended fragment: handler', () => {
    const x = parseExtendedFragment(read('wsus-m0-cbs__cbs-rollupfix-extended.xml'), 'x');
    expect(x.handler).toBe('http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/Cbs');
    expect(x.kb).toBeUndefined();
  });
  it('MSP extended fragment from WSUSpect (wrapped in <Extended>)', () => {
    const x = parseExtendedFragment(read('ref-44005109947__WSUSpect-whitepaper-Context-IS-2015__figure5-extended-fragment.xml'), 'x5');
    expect(x.handler).toBe('http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/WindowsInstaller');
  });
  it('bundle extended fragment: KB, severity, bulletin', () => {
    const x = parseExtendedFragment(
      '<ExtendedProperties DefaultPropertiesLanguage="en" MsrcSeverity="Important" ' +
        'IsBeta="false"><SupportUrl>http://support.microsoft.com</SupportUrl><SecurityBulletinID>MS00-000</SecurityBulletinID><KBArticleID>654321</KBArticleID><CveID>CVE-2020-1</CveID></ExtendedProperties>',
      'x',
    );
    expect(x).toEqual({
      kb: '654321',
      severity: 'Important',
      securityBulletin: 'MS00-000',
      cves: ['CVE-2020-1'],
      supportUrl: 'http://support.microsoft.com',
    });
  });
  it('category extended fragment carries its CategoryType', () => {
    const x = parseExtendedFragment(
      '<ExtendedProperties DefaultPropertiesLanguage="en" ' +
        'Handler="http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/Category" ' +
        '/><HandlerSpecificData type="cat:Category"><CategoryInformation ' +
        'CategoryType="Product" ProhibitsSubcategories="true" /></HandlerSpecificData>',
      'x',
    );
    expect(x.categoryType).toBe('Product');
  });
  it('localized fragment', () => {
    const l = parseLocalizedFragment(
      '<LocalizedProperties><Language>en</Language><Title>Security Update for Windows ' +
        '8 for x64-based Systems (KB2922229)</Title><Description>A &amp; ' +
        'B</Description></LocalizedProperties>',
      'l',
    );
    expect(l).toEqual({ language: 'en', title: 'Security Update for Windows 8 for x64-based Systems (KB2922229)', description: 'A & B' });
  });
});

describe('rules we do not know, or that are malformed, are kept and named', () => {
  const core = (rule: string): RuleNode =>
    parseCoreFragment(
      `<UpdateIdentity UpdateID="11111111-2222-3333-4444-555555555555" ` +
        `RevisionNumber="1" /><Properties UpdateType="Detectoid" ` +
        `/><ApplicabilityRules><IsInstalled>${rule}</IsInstalled></ApplicabilityRules>`,
      't',
    ).rules.IsInstalled!;
  it.each([
    ['<b.RegQword Key="HKEY_LOCAL_MACHINE" Subkey="S" Value="V" Data="1" />', 'b.RegQword', 'unknown rule element'],
    ['<x.Whatever />', 'x.Whatever', 'unknown rule element'],
    ['<FileVersion Path="a" Comparison="EqualTo" Version="1.0.0.0" />', 'FileVersion', 'unknown rule element'],
    ['<b.RegDword Key="HKEY_LOCAL_MACHINE" Subkey="S" Value="V" Data="1" />', 'b.RegDword', 'missing required attribute Comparison'],
    ['<Not><True /><False /></Not>', 'Not', 'Not must hold exactly one expression, found 2'],
    ['<And />', 'And', 'And must hold at least one expression'],
    [
      '<b.RegKeyLoop Key="HKEY_LOCAL_MACHINE" Subkey="S" TrueIf="Any" />',
      'b.RegKeyLoop',
      'RegKeyLoop must hold exactly one expression, found 0',
    ],
  ])('%s → unsupported %s', (xml, element, reason) => {
    expect(core(xml)).toMatchObject({ kind: 'unsupported', element, reason });
  });
  it('an unknown element inside And stays in place; its siblings parse', () => {
    const n = core('<And><b.SoftwareLicense Foo="1" /><True /></And>');
    expect(n).toEqual({
      kind: 'and',
      children: [
        { kind: 'unsupported', element: 'b.SoftwareLicense', attrs: { Foo: '1' }, reason: 'unknown rule element' },
        { kind: 'const', value: true },
      ],
    });
  });
  it('namespaced (full document) spelling maps to the same rules', () => {
    const n = core('<lar:And><bar:FileExists Path="x.dll" Csidl="37" /><msiar:MsiProductInstalled ProductCode="{A}" /></lar:And>');
    expect(leaves(n).map((l) => [l.type, l.family])).toEqual([
      ['FileExists', 'base'],
      ['MsiProductInstalled', 'msi'],
    ]);
  });
});

describe('relationships and slots read whole or refused (never half a relation, never the first of two)', () => {
  const ID = '11111111-2222-3333-4444-555555555555';
  const P = 'd8c6e005-8d21-4c0d-8f43-0a33586a8bd3';
  const frag = (rest: string): string =>
    `<UpdateIdentity UpdateID="${ID}" RevisionNumber="1" /><Properties UpdateType="Software" />${rest}`;
  it.each([
    [
      'an unknown element in Prerequisites',
      `<Relationships><Prerequisites><UpdateIdentity UpdateID="${P}" /><AllOf><UpdateIdentity UpdateID="${P}" /></AllOf></Prerequisites></Relationships>`,
      /Prerequisites holds <AllOf>, where only UpdateIdentity and AtLeastOne may be/,
    ],
    [
      'an empty AtLeastOne',
      '<Relationships><Prerequisites><AtLeastOne IsCategory="true" /></Prerequisites></Relationships>',
      /an AtLeastOne in Prerequisites lists no UpdateIdentity/,
    ],
    [
      'another element in an AtLeastOne',
      `<Relationships><Prerequisites><AtLeastOne><UpdateIdentity UpdateID="${P}" /><Foo /></AtLeastOne></Prerequisites></Relationships>`,
      /an AtLeastOne in Prerequisites holds <Foo>/,
    ],
    [
      'a prerequisite without an UpdateID',
      '<Relationships><Prerequisites><UpdateIdentity /></Prerequisites></Relationships>',
      /an UpdateIdentity in Prerequisites has no valid UpdateID \(null\)/,
    ],
    [
      'two Prerequisites',
      `<Relationships><Prerequisites><UpdateIdentity UpdateID="${P}" /></Prerequisites><Prerequisites /></Relationships>`,
      /Relationships holds 2 Prerequisites elements/,
    ],
    ['two Relationships', '<Relationships /><Relationships />', /has 2 Relationships elements/],
    [
      'a bundled update with a bad RevisionNumber',
      `<Relationships><BundledUpdates><UpdateIdentity UpdateID="${P}" RevisionNumber="x" /></BundledUpdates></Relationships>`,
      /bundled update d8c6e005-8d21-4c0d-8f43-0a33586a8bd3 has no valid RevisionNumber/,
    ],
    [
      'an unknown element in BundledUpdates',
      '<Relationships><BundledUpdates><Or /></BundledUpdates></Relationships>',
      /BundledUpdates holds <Or>/,
    ],
    [
      'a superseded update that is not an UpdateIdentity',
      '<Relationships><SupersededUpdates><Update /></SupersededUpdates></Relationships>',
      /SupersededUpdates holds <Update>/,
    ],
    [
      'a superseded update with a malformed UpdateID',
      '<Relationships><SupersededUpdates><UpdateIdentity UpdateID="nope" /></SupersededUpdates></Relationships>',
      /an UpdateIdentity in SupersededUpdates has no valid UpdateID/,
    ],
  ])('%s → CATALOG_BAD_FORMAT', (_name, rest, message) => {
    expect(() => parseCoreFragment(frag(rest), 'c/9')).toThrow(
      expect.objectContaining({ code: 'CATALOG_BAD_FORMAT', message: expect.stringMatching(message) }),
    );
  });
  it('well-formed relationships still parse', () => {
    const c = parseCoreFragment(
      frag(
        `<Relationships><Prerequisites><UpdateIdentity UpdateID="${P}" /><AtLeastOne IsCategory="true"><UpdateIdentity UpdateID="${P}" /></AtLeastOne></Prerequisites>` +
          `<BundledUpdates><UpdateIdentity UpdateID="${P}" RevisionNumber="200" /></BundledUpdates><SupersededUpdates><UpdateIdentity UpdateID="${P}" /></SupersededUpdates></Relationships>`,
      ),
      'c/9',
    );
    expect(c.prerequisites).toEqual([
      { kind: 'update', updateId: P },
      { kind: 'atLeastOne', isCategory: true, updateIds: [P] },
    ]);
    expect(c.bundledUpdates).toEqual([{ kind: 'update', child: { updateId: P, revisionNumber: 200 } }]);
    expect(c.supersedes).toEqual([P]);
  });
  it('a slot given twice is Unknown, naming it, rather than the first of the two', () => {
    const c = parseCoreFragment(
      frag(
        '<ApplicabilityRules><IsInstalled><True /></IsInstalled><IsInstalled><False /></IsInstalled><IsInstallable><True /></IsInstallable></ApplicabilityRules>',
      ),
      'c/9',
    );
    expect(c.rules.IsInstalled).toMatchObject({
      kind: 'unsupported',
      element: 'IsInstalled',
      reason: 'IsInstalled is given 2 times in ApplicabilityRules',
    });
    expect(c.rules.IsInstallable).toEqual({ kind: 'const', value: true });
  });
});

describe('SCUP software distribution package (namespaced full document)', () => {
  it('HP SDP: rules from package and item combined, WmiQuery/Processor/WindowsVersion/RegSz/FileVersion', async () => {
    const { parseSoftwareDistributionPackage } = await import('../../adapters/xml/sdp.js');
    const r = parseSoftwareDistributionPackage(read('example-HP-sdp-00004850-0000-0000-5350-000000094728.sdp.xml'), 'hp.sdp.xml');
    expect(r.updateId).toBe('00004850-0000-0000-5350-000000094728');
    expect(r.kb).toBe('sp94728');
    expect(r.severity).toBe('Low');
    expect(r.categories).toEqual([{ type: 'UpdateClassification', id: 'cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83' }]);
    expect(r.supersedes).toEqual(['00004850-0000-0000-5350-000000088821', '00004850-0000-0000-5350-000000087800']);
    expect(r.localized[0].title).toBe('Synaptics HD audio driver for 2018 DT [8.65.296.0.A3]');
    // Package-level IsInstallable And item-level IsInstallable.
    const inst = r.rules.IsInstallable!;
    expect(inst.kind).toBe('and');
    const ls = leaves(inst);
    expect(ls[0]).toMatchObject({ type: 'WmiQuery', family: 'base', attrs: { Namespace: 'Root\\cimv2' } });
    expect(ls.filter((l) => l.type === 'RegSz').map((l) => l.attrs.Data)).toEqual(['1809', '1803']);
    const wmi = ls.filter((l) => l.type === 'WmiQuery').map((l) => l.attrs.WqlQuery);
    expect(wmi.at(-1)).toContain('HDAUDIO\\\\FUNC_01&VEN_14F1&DEV_5098'); // entities decoded
    const fv = leaves(r.rules.IsInstalled).find((l) => l.type === 'FileVersion')!;
    expect(fv.attrs).toEqual({ Csidl: '37', Path: 'drivers\\CHDRT64.sys', Comparison: 'GreaterThanOrEqualTo', Version: '8.65.296.0' });
    expect(JSON.stringify(r.rules)).not.toContain('unsupported');
  });
});
