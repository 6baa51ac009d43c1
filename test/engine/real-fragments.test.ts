/**
 * Real Microsoft fragments driven to each state they allow by hand-written inventories; the reason names the
 * deciding rule and the fact it read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCoreFragment, parseLocalizedFragment } from '../../adapters/xml/fragments.js';
import { parseSoftwareDistributionPackage } from '../../adapters/xml/sdp.js';
import { CatalogBuilder } from '../../engine/catalog/builder.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { UpdateRecord } from '../../engine/model.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { FIXTURES } from '../helpers/tmp.js';

const FRAG = join(FIXTURES, 'fragments');
const read = (n: string): string => readFileSync(join(FRAG, n), 'utf8');

/** Detectoids/categories that real fragments list as prerequisites, present and installed. */
function satisfied(ids: string[]): UpdateRecord[] {
  return ids.map((id, k) => ({
    updateId: id,
    revisionNumber: 1,
    revisionId: 900_000 + k,
    updateType: 'Detectoid',
    isLeaf: false,
    isBundle: false,
    deploymentAction: 'Evaluate',
    explicitlyDeployable: false,
    categories: [],
    prerequisites: [],
    bundledUpdates: [],
    bundledByRevisionIds: [],
    supersedes: [],
    supersededByRevisionIds: [],
    rules: { IsInstalled: { kind: 'const', value: true } },
    severity: '',
    cves: [],
    localized: [{ language: 'en', title: `prerequisite ${id.slice(0, 8)}` }],
  }));
}

function catalogOf(fragments: string[], prereqs: string[] = [], extra: UpdateRecord[] = []): { c: Catalog; s: Scanner; ids: string[] } {
  const b = new CatalogBuilder();
  for (const r of satisfied(prereqs)) b.addRecord(r);
  for (const r of extra) b.addRecord(r);
  const ids = fragments.map((text, k) => {
    const core = parseCoreFragment(text, `fragment ${k}`);
    b.addPackageEntry({
      updateId: core.updateId,
      revisionNumber: core.revisionNumber,
      revisionId: 1 + k,
      isLeaf: true,
      isBundle: core.bundledUpdates.length > 0,
      deploymentAction: 'Install',
      categories: [],
      prerequisites: [],
      languages: [],
      bundledByRevisionIds: [],
      supersededByRevisionIds: [],
      payloadFiles: 0,
    });
    b.addCore(1 + k, core);
    b.addLocalized(
      1 + k,
      parseLocalizedFragment(`<LocalizedProperties><Language>en</Language><Title>fragment ${k}</Title></LocalizedProperties>`, 'l'),
    );
    return core.updateId;
  });
  const c = new Catalog(b.build({ kind: 'records', path: 'fragments', sha256: '' }));
  return { c, s: new Scanner(c), ids };
}

const inv = (over: Partial<Inventory>): Inventory => ({
  schema: 'patchscan-inventory/1',
  computer: { name: 'TEST-PC' },
  collectedAt: '2026-11-24T00:00:00Z',
  ...over,
});
const win10 = (build: number, ubr?: number): Partial<Inventory> => ({
  os: { major: 10, minor: 0, build, productType: 1, ...(ubr !== undefined ? { ubr } : {}) },
  registry:
    ubr === undefined
      ? []
      : [
          {
            key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion',
            exists: true,
            values: [{ name: 'UBR', type: 'REG_DWORD', data: ubr }],
          },
        ],
});

function stateOf(x: { c: Catalog; s: Scanner }, updateId: string, i: Inventory): { state: string; reason: string; superseded: boolean } {
  const idx = x.c.findByUpdateId(updateId)[0];
  const ms = x.s.machineScan(i);
  const r = ms.result(idx);
  return { state: r.state, reason: ms.reason(r), superseded: r.superseded };
}

describe('detectoid 853953d3: Windows 10 build and UBR thresholds', () => {
  const x = catalogOf(
    [read('wsus-m0-native__flow__000001__853953d3-98c9-4e6d-9479-84baaa84f28c.core.xml')],
    ['8c3fcc84-7410-4a95-8b89-a166a0190486'],
  );
  const id = x.ids[0];
  it('Installed on build 17763 and later', () => {
    const r = stateOf(x, id, inv(win10(19045, 3803)));
    expect(r.state).toBe('Installed');
    expect(r.reason).toBe(
      'IsInstalled is True: OS version: 10.0.19045.3803 SP0.0 type 1 suites 0x0; the rule requires Windows version >= 10.0, build >= 17763',
    );
  });
  it('Installed on 17134 with UBR ≥ 320', () => {
    expect(stateOf(x, id, inv(win10(17134, 320))).state).toBe('Installed');
  });
  it('NotApplicable (not installed) on 17134 with UBR 100', () => {
    const r = stateOf(x, id, inv(win10(17134, 100)));
    expect(r.state).toBe('NotApplicable');
    expect(r.reason).toMatch(/^IsInstalled is False: /);
  });
  it('Unknown on 17134 when UBR was not collected, naming the registry value', () => {
    const r = stateOf(x, id, inv(win10(17134)));
    expect(r.state).toBe('Unknown');
    expect(r.reason).toBe(
      'IsInstalled is Unknown: registry value ' +
        'HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion\\ubr was ' +
        'not collected; the rule requires UBR >= 320',
    );
  });
  it('Unknown when the OS was not collected at all', () => {
    const r = stateOf(x, id, inv({}));
    expect(r.state).toBe('Unknown');
    expect(r.reason).toMatch(/^IsInstalled is Unknown: OS version was not collected; the rule requires Windows version /);
  });
  it('NotApplicable when its prerequisite is not in the catalog', () => {
    const y = catalogOf([read('wsus-m0-native__flow__000001__853953d3-98c9-4e6d-9479-84baaa84f28c.core.xml')]);
    const r = stateOf(y, id, inv(win10(19045, 1)));
    expect(r.state).toBe('NotApplicable');
    expect(r.reason).toBe('prerequisite 8c3fcc84-7410-4a95-8b89-a166a0190486 (not in the catalog) is not installed');
  });
});

describe('detectoid 0aac58ee: OS older than 1809, or Defender UUPFlags', () => {
  const x = catalogOf(
    [read('wsus-m0-native__flow__000001__0aac58ee-82a0-4452-a7fa-19f68398f1fa.core.xml')],
    ['8c3fcc84-7410-4a95-8b89-a166a0190486'],
  );
  const id = x.ids[0];
  const defender = (values: { name: string; type: 'REG_DWORD'; data: number }[]): Partial<Inventory> => ({
    os: { major: 10, minor: 0, build: 19045, productType: 1 },
    registry: [{ key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows Defender', exists: true, values }],
  });
  it('Installed on Windows 8.1 (6.3 < 10.0)', () => {
    const r = stateOf(x, id, inv({ os: { major: 6, minor: 3, build: 9600, productType: 1 } }));
    expect(r.state).toBe('Installed');
    expect(r.reason).toBe(
      'IsInstalled is True: OS version: 6.3.9600 SP0.0 type 1 suites 0x0; the rule requires Windows version < 10.0, build < 17763',
    );
  });
  it('Installed on 22H2 when UUPFlags is absent (Not RegValueExists)', () => {
    const r = stateOf(x, id, inv(defender([])));
    expect(r.state).toBe('Installed');
    // The leaf is False under a Not: the reason says the value is absent and that the rule excludes it.
    expect(r.reason).toBe(
      'IsInstalled is True: registry value ' +
        'HKEY_LOCAL_MACHINE\\software\\microsoft\\windows defender\\uupflags is absent; ' +
        'the rule excludes the value UUPFlags of type REG_DWORD',
    );
  });
  it('NotApplicable on 22H2 when UUPFlags is 1', () => {
    expect(stateOf(x, id, inv(defender([{ name: 'UUPFlags', type: 'REG_DWORD', data: 1 }]))).state).toBe('NotApplicable');
  });
  it('Installed on 22H2 when UUPFlags is 0', () => {
    expect(stateOf(x, id, inv(defender([{ name: 'UUPFlags', type: 'REG_DWORD', data: 0 }]))).state).toBe('Installed');
  });
  it('Unknown when the Defender key was not collected', () => {
    const r = stateOf(x, id, inv({ os: { major: 10, minor: 0, build: 19045, productType: 1 } }));
    expect(r.state).toBe('Unknown');
    expect(r.reason).toMatch(/uupflags was not collected; the rule excludes the value UUPFlags/);
  });
});

describe('CBS cumulative update KB5026368 (arm64)', () => {
  const x = catalogOf(
    [read('wsus-m0-cbs__cbs-rollupfix-core-reduced.xml')],
    ['c57b3cff-f20d-4841-9970-cfc10d156057', '4103af66-247a-4782-b970-8899394c27c3', '72e7624a-5b00-45d2-b92f-e561c0a6a160'],
  );
  const id = x.ids[0];
  const PKG = 'Package_for_RollupFix~31bf3856ad364e35~arm64~~22000.1936.1.9';
  const cbsKey = {
    key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing',
    exists: true,
    values: [],
  };
  it('Installed when the package is installed and LCUReoffer is absent', () => {
    const r = stateOf(x, id, inv({ registry: [cbsKey], cbs: { packages: [{ identity: PKG, state: 'Installed' }] } }));
    expect(r.state).toBe('Installed');
  });
  it('Required when the package is missing and DISM says it applies', () => {
    const r = stateOf(x, id, inv({ registry: [cbsKey], cbs: { packages: [], applicable: { [PKG]: true } } }));
    expect(r.state).toBe('Required');
    expect(r.reason).toMatch(
      /^IsInstalled is False: CBS package \S+: not present; the rule requires its CBS package installed; IsInstallable is True: .*CBS applicability of \S+ is true; the rule requires its CBS package applicable$/,
    );
  });
  it('NotApplicable when DISM says it does not apply', () => {
    const r = stateOf(x, id, inv({ registry: [cbsKey], cbs: { packages: [], applicable: { [PKG]: false } } }));
    expect(r.state).toBe('NotApplicable');
    expect(r.reason).toMatch(/^IsInstallable is False: .*CBS applicability of \S+ is false; the rule requires its CBS package applicable$/);
  });
  it('Required again when installed but Windows asks for a re-offer (LCUReoffer = 1)', () => {
    const reoffer = { ...cbsKey, values: [{ name: 'LCUReoffer', type: 'REG_DWORD' as const, data: 1 }] };
    expect(
      stateOf(x, id, inv({ registry: [reoffer], cbs: { packages: [{ identity: PKG, state: 'Installed' }], applicable: { [PKG]: true } } }))
        .state,
    ).toBe('Required');
  });
  // Without DISM data, CbsPackageInstallable is inferred (docs/semantics.md, "CbsPackageInstallable without DISM data").
  const machine = (o: {
    arch?: number;
    build?: number;
    ubr?: number;
    packages?: { identity: string; state: string }[];
    reoffer?: boolean;
  }): Inventory =>
    inv({
      os: { major: 10, minor: 0, build: o.build ?? 22000, productType: 1, ...(o.ubr !== undefined ? { ubr: o.ubr } : {}) },
      processor: { architecture: o.arch ?? 12 },
      registry: [o.reoffer ? { ...cbsKey, values: [{ name: 'LCUReoffer', type: 'REG_DWORD' as const, data: 1 }] } : cbsKey],
      cbs: { packages: o.packages ?? [] },
    });
  const NEWER = 'Package_for_RollupFix~31bf3856ad364e35~arm64~~22000.2003.1.4';
  it('issue 15: an ARM64 machine at 22000.2003 with only the newer rollup installed does not need KB5026368', () => {
    const r = stateOf(x, id, machine({ ubr: 2003, packages: [{ identity: NEWER, state: 'Installed' }] }));
    expect(r.state).toBe('NotApplicable');
    expect(r.reason).toMatch(/IsInstallable is False: .*inferred false from OS 22000\.2003 at or past the package's 22000\.1936/);
  });
  it.each<[string, Parameters<typeof machine>[0], string, RegExp]>([
    ['UBR below the package revision', { ubr: 1935 }, 'Required', /inferred true from OS 22000\.1935 below the package's 22000\.1936/],
    ['UBR equal to the package revision (that revision is installed)', { ubr: 1936 }, 'NotApplicable', /at or past/],
    [
      'UBR not collected',
      {},
      'Unknown',
      /^IsInstallable is Unknown: CBS package \S+: not present; CBS applicability of \S+: not inferable: the machine's UBR was not collected/,
    ],
    [
      'another build (Windows 11 22H2)',
      { build: 22621, ubr: 100 },
      'NotApplicable',
      /package is for build 22000 architecture 12, the machine is build 22621/,
    ],
    ['another build, UBR not collected (the build alone decides)', { build: 19045 }, 'NotApplicable', /the machine is build 19045/],
    ['another architecture', { arch: 9, ubr: 100 }, 'NotApplicable', /architecture 12, the machine is build 22000 architecture 9/],
    ['the package Staged, UBR below', { ubr: 1900, packages: [{ identity: PKG, state: 'Staged' }] }, 'Required', /inferred true/],
    ['the package Staged, UBR past it', { ubr: 2003, packages: [{ identity: PKG, state: 'Staged' }] }, 'NotApplicable', /inferred false/],
    [
      'the package InstallPending (restart pending; UBR still below)',
      { ubr: 1900, packages: [{ identity: PKG, state: 'InstallPending' }] },
      'Required',
      /inferred true/,
    ],
    [
      'the package InstallPending, UBR not collected',
      { packages: [{ identity: PKG, state: 'InstallPending' }] },
      'Unknown',
      /InstallPending; CBS applicability of \S+: not inferable: the machine's UBR was not collected/,
    ],
    [
      'the package Superseded (counts as installed)',
      { packages: [{ identity: PKG, state: 'Superseded' }] },
      'Installed',
      /IsInstalled is True/,
    ],
    [
      'the package Installed, re-offered (LCUReoffer = 1): an installed package applies',
      { ubr: 1936, reoffer: true, packages: [{ identity: PKG, state: 'Installed' }] },
      'Required',
      /inferred true from the package's own state Installed/,
    ],
  ])('without DISM data: %s', (_n, m, state, reason) => {
    const r = stateOf(x, id, machine(m));
    expect(r.state).toBe(state);
    expect(r.reason).toMatch(reason);
  });
  it('the package Superseded: CbsPackageInstallable is False by its state, even without the UBR', () => {
    const reoffer = machine({ reoffer: true, packages: [{ identity: PKG, state: 'Superseded' }] });
    const r = stateOf(x, id, reoffer);
    expect(r.state).toBe('NotApplicable');
    expect(r.reason).toMatch(/IsInstallable is False: .*inferred false from the package's own state Superseded/);
  });
  it('DISM data, when collected, decides over the inference', () => {
    const m = machine({ ubr: 2003 });
    const r = stateOf(x, id, { ...m, cbs: { packages: [], applicable: { [PKG]: true } } });
    expect(r.state).toBe('Required');
    expect(r.reason).toMatch(/CBS applicability of \S+ is true; the rule requires its CBS package applicable/);
  });
  it('Unknown when CBS packages were not collected', () => {
    const r = stateOf(x, id, inv({ registry: [cbsKey] }));
    expect(r.state).toBe('Unknown');
    expect(r.reason).toBe(
      'IsInstalled is Unknown: CBS package ' +
        'package_for_rollupfix~31bf3856ad364e35~arm64~~22000.1936.1.9 was not collected; ' +
        'the rule requires its CBS package installed',
    );
  });
});

describe('Windows 7 conhost fix (WSUSpect): FileVersion CSIDL 37 and Not(CbsPackageInstalledByIdentity)', () => {
  const x = catalogOf(
    [read('ref-44005109947__WSUSpect-whitepaper-Context-IS-2015__figure2-core-fragment.xml')],
    ['59653007-e2e9-4f71-8525-2ff588527978', '71c1e8bb-9a5d-4e56-a456-10b0624c7188'],
  );
  const id = x.ids[0];
  const win7 = (version: string | undefined, ie: boolean): Inventory =>
    inv({
      os: { major: 6, minor: 1, build: 7601, spMajor: 1, productType: 1 },
      csidl: { '37': 'C:\\Windows\\System32' },
      files: [{ path: 'C:\\Windows\\System32\\conhost.exe', exists: version !== undefined, ...(version ? { version } : {}) }],
      cbs: { packages: ie ? [{ identity: 'InternetExplorer-Package~31bf3856ad364e35~amd64~~11.2.9600.16428', state: 'Installed' }] : [] },
    });
  it('Installed when conhost.exe is new enough', () => {
    const r = stateOf(x, id, win7('6.1.7601.23403', false));
    expect(r.state).toBe('Installed');
    expect(r.reason).toBe(
      'IsInstalled is True: file CSIDL 37\\conhost.exe: exists, version 6.1.7601.23403; the rule requires version >= 6.1.7601.22045',
    );
  });
  it('Required when it is older and IE 11 is not installed', () => {
    const r = stateOf(x, id, win7('6.1.7601.17514', false));
    expect(r.state).toBe('Required');
    expect(r.reason).toMatch(/version 6\.1\.7601\.17514.*IsInstallable is True/);
  });
  it('NotApplicable when IE 11 (the named CBS package) is installed', () => {
    const r = stateOf(x, id, win7('6.1.7601.17514', true));
    expect(r.state).toBe('NotApplicable');
    // True under a Not: the package is installed, and the rule excludes it.
    expect(r.reason).toBe(
      'IsInstallable is False: CBS package InternetExplorer-Package~11.2.9600.16428: ' +
        'InternetExplorer-Package~31bf3856ad364e35~amd64~~11.2.9600.16428 Installed; the ' +
        'rule excludes CBS package InternetExplorer-Package~11.2.9600.16428 installed',
    );
  });
  it('Unknown when the CSIDL folders were not collected', () => {
    const r = stateOf(x, id, inv({ os: { major: 6, minor: 1, build: 7601, productType: 1 }, cbs: { packages: [] } }));
    expect(r.state).toBe('Unknown');
    expect(r.reason).toBe(
      'IsInstalled is Unknown: file CSIDL 37\\conhost.exe was not collected; the rule requires version >= 6.1.7601.22045',
    );
  });
  it('a missing conhost.exe (collected and absent) is not installed, not unknown', () => {
    expect(stateOf(x, id, win7(undefined, false)).state).toBe('Required');
  });
});

describe('OS installer update: ProductReleaseInstalled and DeviceAttribute', () => {
  const x = catalogOf(
    [read('wsus-m0-cbs__osinstaller-core.xml')],
    [
      '72e7624a-5b00-45d2-b92f-e561c0a6a160',
      '0fa1201d-4330-4fa8-8ae9-b877473b6441',
      'e657ef08-e43d-4326-aa4c-6fee197e8192',
      '03aa8476-15b7-4288-bf9b-286b31f99bd6',
    ],
  );
  const id = x.ids[0];
  const machine = (release: string | undefined, sku: string, ver: string): Inventory =>
    inv({
      productReleases: release ? [{ name: 'Client.OS.RS2.ARM64', version: release }] : [],
      deviceAttributes: { OSSkuId: sku, sku, OSVersion: ver },
    });
  it('Installed when the release is at that version', () =>
    expect(stateOf(x, id, machine('10.0.22621.5909', '4', '10.0.22621.1')).state).toBe('Installed'));
  it('Required on an Enterprise (SKU 4) 22621 machine without it', () =>
    expect(stateOf(x, id, machine(undefined, '4', '10.0.22621.100')).state).toBe('Required'));
  it('NotApplicable on SKU 119', () => {
    const r = stateOf(x, id, machine(undefined, '119', '10.0.22621.100'));
    expect(r.state).toBe('NotApplicable');
    expect(r.reason).toBe('IsInstallable is False: device attribute OSSkuId is 119; the rule excludes OSSkuId = 119');
  });
  it('Unknown without device attributes', () => {
    const r = stateOf(x, id, inv({ productReleases: [] }));
    expect(r.state).toBe('Unknown');
    expect(r.reason).toBe('IsInstallable is Unknown: device attribute OSSkuId was not collected; the rule excludes OSSkuId = 119');
  });
});

describe('detectoid 2bf7ed9c: install language (RegSz InstallLanguage = 0409)', () => {
  const text = read('ref-51058199935__core-fragments-snippet.xml');
  const second = text.slice(text.indexOf('<UpdateIdentity UpdateID="2bf7ed9c'), text.indexOf('<UpdateIdentity UpdateID="6AECE9A4'));
  const x = catalogOf([second]);
  const id = x.ids[0];
  const lang = (code: string | undefined): Inventory =>
    inv({
      registry: [
        {
          key: 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Nls\\Language',
          exists: true,
          values: code ? [{ name: 'InstallLanguage', type: 'REG_SZ', data: code }] : [],
        },
      ],
    });
  it('Installed on an English installation', () => expect(stateOf(x, id, lang('0409')).state).toBe('Installed'));
  it('NotApplicable on a German one', () =>
    expect(stateOf(x, id, lang('0407')).reason).toMatch(/installlanguage: REG_SZ 0407; the rule requires InstallLanguage = 0409$/));
  it('NotApplicable when the value is absent', () => expect(stateOf(x, id, lang(undefined)).state).toBe('NotApplicable'));
  it('Unknown when the key was not collected', () => expect(stateOf(x, id, inv({})).state).toBe('Unknown'));
});

describe('Defender detectoid 3333902a: deep And/Or/Not', () => {
  const x = catalogOf(
    [read('wsus-m0-native__flow__000001__3333902a-bef2-4507-b42a-fe8219658d52.core.xml')],
    ['8c3fcc84-7410-4a95-8b89-a166a0190486'],
  );
  const id = x.ids[0];
  it('NotApplicable when the WinDefend service key is absent (HKLM\\SYSTEM\\…\\Services lists no WinDefend)', () => {
    const r = stateOf(
      x,
      id,
      inv({
        registry: [
          { key: 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services', exists: true, subkeys: ['Tcpip'] },
          { key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates', exists: true, values: [] },
        ],
      }),
    );
    expect(r.state).toBe('NotApplicable');
    expect(r.reason).toBe(
      'IsInstalled is False: registry key ' +
        'HKEY_LOCAL_MACHINE\\system\\currentcontrolset\\services\\windefend is absent; ' +
        'the rule requires the key',
    );
  });
  it('Unknown when nothing about Defender was collected', () => expect(stateOf(x, id, inv({})).state).toBe('Unknown'));
});

describe('KB2267602 bundle (a2fef9b0): state from its children', () => {
  const bundleText = read('wsus-m0-wsusss__wusp-reference__a2fef9b0-7951-4c2c-a42b-9e351dd1c1fe-r200.core.xml');
  const prereqs = [
    'be4048db-157c-4532-9582-7f05099590c9',
    '0aac58ee-82a0-4452-a7fa-19f68398f1fa',
    'e0789628-ce08-4437-be74-2495b842f43b',
    '8c3fcc84-7410-4a95-8b89-a166a0190486',
  ];
  it('Unknown while its bundled updates are not in the catalog, naming one', () => {
    const x = catalogOf([bundleText], prereqs);
    const r = stateOf(x, x.ids[0], inv({}));
    expect(r.state).toBe('Unknown');
    expect(r.reason).toBe('bundled update 90f961a9-1756-4493-aade-644c37589961 (not in the catalog) is Unknown');
  });
  it('NotApplicable when a prerequisite is not installed', () => {
    const x = catalogOf([bundleText], prereqs.slice(1));
    expect(stateOf(x, x.ids[0], inv({})).reason).toMatch(
      /^prerequisite be4048db-157c-4532-9582-7f05099590c9 \(not in the catalog\) is not installed/,
    );
  });
});

describe('HP SCUP package: WmiQuery, Processor, WindowsVersion, RegSz', () => {
  const r = parseSoftwareDistributionPackage(read('example-HP-sdp-00004850-0000-0000-5350-000000094728.sdp.xml'), 'hp');
  const b = new CatalogBuilder();
  b.addRecord(r);
  const c = new Catalog(b.build({ kind: 'records', path: 'hp', sha256: '' }));
  const x = { c, s: new Scanner(c) };
  const wmi = (hp: number, board: number, pnp: number): Inventory['wmi'] => [
    {
      namespace: 'Root\\cimv2',
      query:
        "select * from Win32_ComputerSystem where (Manufacturer='Hewlett-Packard' and " +
        "not (Model like '%Proliant%')) or (Manufacturer='HP') ",
      count: hp,
    },
    { namespace: 'Root\\cimv2', query: "select * from Win32_BaseBoard where Product LIKE '%840a%'", count: board },
    {
      namespace: 'Root\\cimv2',
      query:
        'select * from Win32_PnpEntity where DeviceID LIKE ' +
        "'%HDAUDIO\\\\FUNC_01&VEN_14F1&DEV_5098&SUBSYS_103C840A%' or DeviceID LIKE " +
        "'%HDAUDIO\\\\FUNC_01&VEN_14F1&DEV_5098&SUBSYS_103C8476%'",
      count: pnp,
    },
  ];
  const machine = (w: Inventory['wmi'], release: string, driver?: string): Inventory =>
    inv({
      os: { major: 10, minor: 0, build: 17763, productType: 1 },
      processor: { architecture: 9 },
      wmi: w,
      csidl: { '37': 'C:\\Windows\\System32' },
      files: [
        { path: 'C:\\Windows\\System32\\drivers\\CHDRT64.sys', exists: driver !== undefined, ...(driver ? { version: driver } : {}) },
      ],
      registry: [
        {
          key: 'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows NT\\CurrentVersion',
          exists: true,
          values: [{ name: 'ReleaseId', type: 'REG_SZ', data: release }],
        },
      ],
    });
  it('Required on an HP 840a board with the audio device and an old driver', () =>
    expect(stateOf(x, r.updateId, machine(wmi(1, 1, 1), '1809', '8.65.200.0')).state).toBe('Required'));
  it('Installed with the new driver', () =>
    expect(stateOf(x, r.updateId, machine(wmi(1, 1, 1), '1809', '8.65.296.0')).state).toBe('Installed'));
  it('NotApplicable on a machine that is not an HP', () => {
    const s = stateOf(x, r.updateId, machine(wmi(0, 1, 1), '1809', '8.65.200.0'));
    expect(s.state).toBe('NotApplicable');
    expect(s.reason).toMatch(
      /^IsInstallable is False: WMI query select \* from Win32_ComputerSystem .*: 0 instance\(s\); the rule requires a result of the WMI query$/,
    );
  });
  it('Unknown when the WMI queries were not collected', () =>
    expect(stateOf(x, r.updateId, machine([], '1809')).reason).toMatch(/WMI query .*not collected/));
});

describe('remaining real detectoids', () => {
  const defenderPrereq = ['8c3fcc84-7410-4a95-8b89-a166a0190486'];
  it('378c0b3f (IsInstalled True): Installed when its prerequisite is, NotApplicable when not', () => {
    const text = read('wsus-m0-native__flow__000001__378c0b3f-b3be-471d-ac6c-21e0f96d7de4.core.xml');
    const x = catalogOf([text], defenderPrereq);
    expect(stateOf(x, x.ids[0], inv({}))).toMatchObject({ state: 'Installed', reason: 'IsInstalled is True: constant True' });
    const y = catalogOf([text]);
    expect(stateOf(y, y.ids[0], inv({})).state).toBe('NotApplicable');
  });
  it.each([
    ['21d48c56-b34a-4ba7-a7f4-f8c7b963aff5', 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services', 'WinDefend'],
    ['9e682aaa-9547-43b8-8b74-c3183d1d8aaa', 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows Defender', 'NIS'],
  ])('%s: NotApplicable when the key it requires is absent, Unknown when not collected', (id, parent, child) => {
    const x = catalogOf([read(`wsus-m0-native__flow__000001__${id}.core.xml`)], defenderPrereq);
    const absent = inv({
      registry: [
        { key: parent, exists: true, subkeys: ['Other'] },
        { key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates', exists: true, values: [] },
      ],
    });
    const r = stateOf(x, x.ids[0], absent);
    expect(r.state).toBe('NotApplicable');
    expect(r.reason.toLowerCase()).toContain(`${parent}\\${child}`.toLowerCase());
    expect(stateOf(x, x.ids[0], inv({})).state).toBe('Unknown');
  });
});
