/**
 * Reason texts (issue 15, item 3): a reason says what the machine has and what the rule wanted, and keeps the
 * negation of a `Not` ("the rule excludes …"), under And, Or and nested. One table per rule kind × context, then
 * the real OS installer fragment whose reason once read as if the machine's SKU were the one the rule excludes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCoreFragment, parseLocalizedFragment } from '../../adapters/xml/fragments.js';
import { CatalogBuilder } from '../../engine/catalog/builder.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { LeafRule, RuleNode } from '../../engine/model.js';
import { formatExplanation, Scanner } from '../../engine/scanner/scanner.js';
import { FIXTURES } from '../helpers/tmp.js';
import { catalogOf, updateRecord } from '../helpers/update-record.js';

const ID = '11111111-2222-3333-4444-555555555555';
const inv = (over: Partial<Inventory> = {}): Inventory => ({
  schema: 'patchscan-inventory/1',
  computer: { name: 'PC' },
  collectedAt: '2026-11-24T00:00:00Z',
  ...over,
});

/** The state and reason of one update whose IsInstalled rule is `rule` (IsInstallable absent: True by default). */
function outcome(rule: RuleNode, machine: Inventory): { state: string; reason: string } {
  const r = updateRecord({ updateId: ID, revisionId: 1, rules: { IsInstalled: rule }, localized: [{ language: 'en', title: 'T' }] });
  const [row] = new Scanner(catalogOf([r], 't')).scan(machine, { all: true });
  return { state: row.state, reason: row.reason };
}

type V = 'True' | 'False' | 'Unknown';
interface Kind {
  readonly rule: LeafRule;
  /** Machines on which the rule is True, False and Unknown, with what the reason must say each has. */
  readonly on: Readonly<Record<V, readonly [Partial<Inventory>, string]>>;
  /** What the rule wants, as the reason phrases it. */
  readonly wants: string;
}

const leaf = (type: string, attrs: Record<string, string>, family: LeafRule['family'] = 'base'): LeafRule => ({
  kind: 'rule',
  type,
  family,
  attrs,
});
const HKLM_NT = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion';
const ntKey = (values: { name: string; type: 'REG_DWORD' | 'REG_SZ'; data: number | string }[]): Partial<Inventory> => ({
  registry: [{ key: HKLM_NT, exists: true, values }],
});
const OFFICE = '90160000-008c-0000-0000-0000000ff1ce';

const KINDS: Readonly<Record<string, Kind>> = {
  'DeviceAttribute (string)': {
    rule: leaf('DeviceAttribute', { Name: 'OSSkuId', Type: 'String', Comparison: 'EqualTo', Value: '119' }, 'update'),
    on: {
      True: [{ deviceAttributes: { OSSkuId: '119' } }, 'device attribute OSSkuId is 119'],
      False: [{ deviceAttributes: { OSSkuId: '48' } }, 'device attribute OSSkuId is 48'],
      Unknown: [{ deviceAttributes: {} }, 'device attribute OSSkuId was not collected'],
    },
    wants: 'OSSkuId = 119',
  },
  'DeviceAttribute (version)': {
    rule: leaf(
      'DeviceAttribute',
      { Name: 'OSVersion', Type: 'Version', Comparison: 'GreaterThanOrEqualTo', Value: '10.0.22621.1' },
      'update',
    ),
    on: {
      True: [{ deviceAttributes: { OSVersion: '10.0.22621.100' } }, 'device attribute OSVersion is 10.0.22621.100'],
      False: [{ deviceAttributes: { OSVersion: '10.0.19045.1' } }, 'device attribute OSVersion is 10.0.19045.1'],
      Unknown: [{}, 'device attribute OSVersion was not collected'],
    },
    wants: 'OSVersion >= 10.0.22621.1',
  },
  WindowsVersion: {
    rule: leaf('WindowsVersion', { Comparison: 'GreaterThanOrEqualTo', MajorVersion: '10', MinorVersion: '0', BuildNumber: '17763' }),
    on: {
      True: [{ os: { major: 10, minor: 0, build: 19045, productType: 1 } }, 'OS version: 10.0.19045 SP0.0 type 1 suites 0x0'],
      False: [{ os: { major: 10, minor: 0, build: 14393, productType: 1 } }, 'OS version: 10.0.14393 SP0.0 type 1 suites 0x0'],
      Unknown: [{}, 'OS version was not collected'],
    },
    wants: 'Windows version >= 10.0, build >= 17763',
  },
  FileVersion: {
    rule: leaf('FileVersion', { Path: '\\conhost.exe', Csidl: '37', Comparison: 'GreaterThanOrEqualTo', Version: '6.1.7601.23403' }),
    on: {
      True: [
        {
          csidl: { '37': 'C:\\Windows\\System32' },
          files: [{ path: 'C:\\Windows\\System32\\conhost.exe', exists: true, version: '6.1.7601.23403' }],
        },
        'file CSIDL 37\\conhost.exe: exists, version 6.1.7601.23403',
      ],
      False: [
        { csidl: { '37': 'C:\\Windows\\System32' }, files: [{ path: 'C:\\Windows\\System32\\conhost.exe', exists: false }] },
        'file CSIDL 37\\conhost.exe is absent',
      ],
      Unknown: [{}, 'file CSIDL 37\\conhost.exe was not collected'],
    },
    wants: 'version >= 6.1.7601.23403',
  },
  RegDword: {
    rule: leaf('RegDword', {
      Key: 'HKEY_LOCAL_MACHINE',
      Subkey: 'SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion',
      Value: 'UBR',
      Comparison: 'GreaterThanOrEqualTo',
      Data: '320',
    }),
    on: {
      True: [
        ntKey([{ name: 'UBR', type: 'REG_DWORD', data: 3803 }]),
        'registry value HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion\\ubr: REG_DWORD 3803',
      ],
      False: [
        ntKey([{ name: 'UBR', type: 'REG_DWORD', data: 100 }]),
        'registry value HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion\\ubr: REG_DWORD 100',
      ],
      Unknown: [{}, 'registry value HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion\\ubr was not collected'],
    },
    wants: 'UBR >= 320',
  },
  RegSz: {
    rule: leaf('RegSz', {
      Key: 'HKEY_LOCAL_MACHINE',
      Subkey: 'SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion',
      Value: 'EditionID',
      Comparison: 'EqualTo',
      Data: 'Enterprise N',
    }),
    on: {
      True: [
        ntKey([{ name: 'EditionID', type: 'REG_SZ', data: 'enterprise n' }]),
        'registry value HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion\\editionid: REG_SZ enterprise n',
      ],
      False: [ntKey([]), 'registry value HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion\\editionid is absent'],
      Unknown: [{}, 'registry value HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion\\editionid was not collected'],
    },
    wants: 'EditionID = "Enterprise N"',
  },
  RegValueExists: {
    rule: leaf('RegValueExists', {
      Key: 'HKEY_LOCAL_MACHINE',
      Subkey: 'SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion',
      Value: 'UBR',
      Type: 'REG_DWORD',
    }),
    on: {
      True: [
        ntKey([{ name: 'UBR', type: 'REG_DWORD', data: 1 }]),
        'registry value HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion\\ubr: REG_DWORD 1',
      ],
      False: [ntKey([]), 'registry value HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion\\ubr is absent'],
      Unknown: [{}, 'registry value HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion\\ubr was not collected'],
    },
    wants: 'the value UBR of type REG_DWORD',
  },
  RegKeyExists: {
    rule: leaf('RegKeyExists', { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion' }),
    on: {
      True: [ntKey([]), 'registry key HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion exists'],
      False: [
        { registry: [{ key: HKLM_NT, exists: false }] },
        'registry key HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion is absent',
      ],
      Unknown: [{}, 'registry key HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion was not collected'],
    },
    wants: 'the key',
  },
  WmiQuery: {
    rule: leaf('WmiQuery', { Namespace: 'root\\cimv2', WqlQuery: 'select * from Win32_BaseBoard' }),
    on: {
      True: [
        { wmi: [{ namespace: 'root\\cimv2', query: 'select * from Win32_BaseBoard', count: 2 }] },
        'WMI query select * from Win32_BaseBoard in root\\cimv2: 2 instance(s)',
      ],
      False: [
        { wmi: [{ namespace: 'root\\cimv2', query: 'select * from Win32_BaseBoard', count: 0 }] },
        'WMI query select * from Win32_BaseBoard in root\\cimv2: 0 instance(s)',
      ],
      Unknown: [{ wmi: [] }, 'WMI query select * from Win32_BaseBoard in root\\cimv2 was not collected'],
    },
    wants: 'a result of the WMI query',
  },
  MsiProductInstalled: {
    rule: leaf('MsiProductInstalled', { ProductCode: `{${OFFICE}}`, VersionMin: '16.0.0.0' }, 'msi'),
    on: {
      True: [
        { msi: { products: [{ productCode: OFFICE, version: '16.0.1', language: 1033 }] } },
        `MSI product {${OFFICE}}: installed, version 16.0.1, language 1033`,
      ],
      False: [{ msi: { products: [] } }, `MSI product {${OFFICE}}: not installed`],
      Unknown: [{}, `MSI product {${OFFICE}} was not collected`],
    },
    wants: `MSI product {${OFFICE}} (version >= 16.0.0.0)`,
  },
  CbsPackageInstalledByIdentity: {
    rule: leaf('CbsPackageInstalledByIdentity', { PackageIdentity: 'InternetExplorer-Package~11.2.9600.16428' }, 'cbs'),
    on: {
      True: [
        { cbs: { packages: [{ identity: 'InternetExplorer-Package~31bf3856ad364e35~amd64~~11.2.9600.16428', state: 'Installed' }] } },
        'CBS package InternetExplorer-Package~11.2.9600.16428: InternetExplorer-Package~31bf3856ad364e35~amd64~~11.2.9600.16428 Installed',
      ],
      False: [{ cbs: { packages: [] } }, 'CBS package InternetExplorer-Package~11.2.9600.16428: not present'],
      Unknown: [{}, 'CBS package InternetExplorer-Package~11.2.9600.16428 was not collected'],
    },
    wants: 'CBS package InternetExplorer-Package~11.2.9600.16428 installed',
  },
  ProductReleaseInstalled: {
    rule: leaf('ProductReleaseInstalled', { Name: 'Client.OS.RS2.ARM64', Version: '10.0.22621.5909' }, 'update'),
    on: {
      True: [
        { productReleases: [{ name: 'Client.OS.RS2.ARM64', version: '10.0.22621.6000' }] },
        'product release Client.OS.RS2.ARM64: Client.OS.RS2.ARM64 10.0.22621.6000',
      ],
      False: [{ productReleases: [] }, 'product release Client.OS.RS2.ARM64: not installed'],
      Unknown: [{}, 'product release Client.OS.RS2.ARM64 was not collected'],
    },
    wants: 'Client.OS.RS2.ARM64 10.0.22621.5909 or later installed',
  },
  SystemMetric: {
    rule: leaf('SystemMetric', { Index: '87', Comparison: 'EqualTo', Value: '1' }),
    on: {
      True: [{ systemMetrics: { '87': 1 } }, 'systemMetric 87 is 1'],
      False: [{ systemMetrics: { '87': 0 } }, 'systemMetric 87 is 0'],
      Unknown: [{}, 'systemMetric 87 was not collected'],
    },
    wants: 'system metric 87 = 1',
  },
  Processor: {
    rule: leaf('Processor', { Architecture: '12' }),
    on: {
      True: [{ processor: { architecture: 12 } }, 'processor: architecture 12'],
      False: [{ processor: { architecture: 9 } }, 'processor: architecture 9'],
      Unknown: [{}, 'processor was not collected'],
    },
    wants: 'architecture 12',
  },
};

/** The slot's text with its value: the prefix, and for a False IsInstalled the Required suffix. */
function expected(value: V, text: string): { state: string; reason: string } {
  if (value === 'True') return { state: 'Installed', reason: `IsInstalled is True: ${text}` };
  if (value === 'False') return { state: 'Required', reason: `IsInstalled is False: ${text}; IsInstallable is absent (True by default)` };
  return { state: 'Unknown', reason: `IsInstalled is Unknown: ${text}` };
}

const not = (v: V): V => (v === 'True' ? 'False' : v === 'False' ? 'True' : 'Unknown');
const T: RuleNode = { kind: 'const', value: true };
const F: RuleNode = { kind: 'const', value: false };

/** Each context: the tree around the leaf, the slot value for a leaf value, and the note a reason adds. */
const CONTEXTS: readonly {
  name: string;
  tree: (l: RuleNode) => RuleNode;
  value: (v: V) => V;
  verb: 'requires' | 'excludes';
  note: (v: V) => string;
}[] = [
  { name: 'plain', tree: (l) => l, value: (v) => v, verb: 'requires', note: () => '' },
  { name: 'under Not', tree: (l) => ({ kind: 'not', child: l }), value: not, verb: 'excludes', note: () => '' },
  {
    name: 'And(True, leaf)',
    tree: (l) => ({ kind: 'and', children: [T, l] }),
    value: (v) => v,
    verb: 'requires',
    note: (v) => (v === 'True' ? ' (and 1 other condition holds)' : ''),
  },
  {
    name: 'Or(leaf, False)',
    tree: (l) => ({ kind: 'or', children: [l, F] }),
    value: (v) => v,
    verb: 'requires',
    note: (v) => (v === 'False' ? ' (nor does 1 other alternative)' : ''),
  },
  {
    name: 'Not(And(leaf, True))',
    tree: (l) => ({ kind: 'not', child: { kind: 'and', children: [l, T] } }),
    value: not,
    verb: 'excludes',
    note: (v) => (v === 'True' ? ' (and 1 other condition holds)' : ''),
  },
  {
    name: 'And(Or(False, Not(leaf)), True)',
    tree: (l) => ({ kind: 'and', children: [{ kind: 'or', children: [F, { kind: 'not', child: l }] }, T] }),
    value: not,
    verb: 'excludes',
    note: (v) => (v === 'True' ? ' (nor does 1 other alternative)' : v === 'False' ? ' (and 1 other condition holds)' : ''),
  },
];

const ROWS = Object.entries(KINDS).flatMap(([name, k]) =>
  CONTEXTS.flatMap((c) => (['True', 'False', 'Unknown'] as const).map((v) => ({ name, k, c, v }))),
);

describe("reason texts: rule kind × context × the leaf's value", () => {
  it.each(ROWS.map((r) => [r.name, r.c.name, r.v, r] as const))('%s %s, leaf %s', (_n, _c, _v, { k, c, v }) => {
    const [machine, has] = k.on[v];
    expect(outcome(c.tree(k.rule), inv(machine))).toEqual(expected(c.value(v), `${has}; the rule ${c.verb} ${k.wants}${c.note(v)}`));
  });
});

describe('reasons that name no comparison', () => {
  it.each([
    [
      'an unknown rule element',
      { kind: 'unsupported', element: 'b.RegQword', attrs: {}, reason: 'unknown rule element' },
      'rule b.RegQword is not supported: unknown rule element',
    ],
    [
      'an unknown rule element under Not',
      { kind: 'not', child: { kind: 'unsupported', element: 'b.RegQword', attrs: {}, reason: 'unknown rule element' } },
      'rule b.RegQword is not supported: unknown rule element',
    ],
    [
      'a rule patchscan does not evaluate',
      leaf('InstalledOnce', {}),
      'rule InstalledOnce is not evaluated: its semantics are undocumented',
    ],
  ])('%s', (_n, rule, text) => {
    expect(outcome(rule as RuleNode, inv())).toEqual(expected('Unknown', text));
  });
  it('a constant, and a constant never cited over a rule beside it', () => {
    expect(outcome(T, inv())).toEqual(expected('True', 'constant True'));
    expect(outcome({ kind: 'not', child: F }, inv())).toEqual(expected('True', 'Not constant False'));
    expect(outcome({ kind: 'and', children: [T, KINDS.Processor.rule] }, inv({ processor: { architecture: 12 } }))).toEqual(
      expected('True', 'processor: architecture 12; the rule requires architecture 12 (and 1 other condition holds)'),
    );
  });
  it('an And that is False names the False child, not the True one before it', () => {
    const rule: RuleNode = { kind: 'and', children: [KINDS.Processor.rule, KINDS['DeviceAttribute (string)'].rule] };
    expect(outcome(rule, inv({ processor: { architecture: 12 }, deviceAttributes: { OSSkuId: '48' } }))).toEqual(
      expected('False', 'device attribute OSSkuId is 48; the rule requires OSSkuId = 119'),
    );
  });
  it('an Unknown And names the Unknown child (a True sibling does not decide it)', () => {
    const rule: RuleNode = { kind: 'and', children: [KINDS.Processor.rule, KINDS['DeviceAttribute (string)'].rule] };
    expect(outcome(rule, inv({ processor: { architecture: 12 } }))).toEqual(
      expected('Unknown', 'device attribute OSSkuId was not collected; the rule requires OSSkuId = 119'),
    );
  });
});

describe('the real OS installer update (osinstaller-core.xml): Not(DeviceAttribute OSSkuId=119) inside And/Or', () => {
  const text = readFileSync(join(FIXTURES, 'fragments', 'wsus-m0-cbs__osinstaller-core.xml'), 'utf8');
  const core = parseCoreFragment(text, 'osinstaller');
  // Its prerequisites (Windows detectoids and categories) are left out: only the rules are under test here.
  const b = new CatalogBuilder();
  b.addPackageEntry({
    updateId: core.updateId,
    revisionNumber: core.revisionNumber,
    revisionId: 1,
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
  b.addCore(1, { ...core, prerequisites: [] });
  b.addLocalized(
    1,
    parseLocalizedFragment('<LocalizedProperties><Language>en</Language><Title>Windows 11 installer</Title></LocalizedProperties>', 'l'),
  );
  const scanner = new Scanner(new Catalog(b.build({ kind: 'records', path: 'osinstaller', sha256: '' })));
  const reason = (attrs: Record<string, string>): { state: string; reason: string } => {
    const [row] = scanner.scan(inv({ productReleases: [], deviceAttributes: { OSVersion: '10.0.22621.100', ...attrs } }), { all: true });
    return { state: row.state, reason: row.reason };
  };
  const notInstalled =
    'IsInstalled is False: product release Client.OS.RS2.ARM64: not installed; the ' +
    'rule requires Client.OS.RS2.ARM64 10.0.22621.5909 or later installed';

  it("the issue's machine (OSSkuId 48, sku 4): the SKU the machine has, and the one the rule excludes", () => {
    expect(reason({ OSSkuId: '48', sku: '4' })).toEqual({
      state: 'Required',
      reason:
        `${notInstalled}; IsInstallable is True: device attribute OSSkuId is 48; the ` +
        `rule excludes OSSkuId = 119 (and 4 other conditions hold)`,
    });
  });
  it('SKU 119: the exclusion applies', () => {
    expect(reason({ OSSkuId: '119', sku: '119' })).toEqual({
      state: 'NotApplicable',
      reason: 'IsInstallable is False: device attribute OSSkuId is 119; the rule excludes OSSkuId = 119',
    });
  });
  it('SKU 48 everywhere: none of the 16 SKU alternatives holds, and the reason says so', () => {
    expect(reason({ OSSkuId: '48', sku: '48' })).toEqual({
      state: 'NotApplicable',
      reason: 'IsInstallable is False: device attribute OSSkuId is 48; the rule requires OSSkuId = 4 (nor do 15 other alternatives)',
    });
  });
  it('explain\'s tree: each leaf says what it read and what the rule wanted, "excludes" under the Not', () => {
    const tree = formatExplanation(
      scanner.explain(inv({ productReleases: [], deviceAttributes: { OSVersion: '10.0.22621.100', OSSkuId: '48', sku: '4' } }), 0),
    ).split('\n');
    const at = tree.indexOf('      [True] Not');
    expect(at).toBeGreaterThan(0);
    expect(tree[at + 1]).toBe(
      '        [False] DeviceAttribute Name=OSSkuId Type=String Comparison=EqualTo ' +
        'Value=119   ← device attribute OSSkuId: 48; the rule excludes OSSkuId = 119',
    );
    expect(tree).toContain(
      '    [True] DeviceAttribute Name=OSVersion Type=Version ' +
        'Comparison=GreaterThanOrEqualTo Value=10.0.22621.1   ← device attribute ' +
        'OSVersion: 10.0.22621.100; the rule requires OSVersion >= 10.0.22621.1',
    );
  });
  it('another build: the version bound that fails', () => {
    expect(reason({ OSSkuId: '4', sku: '4', OSVersion: '10.0.22631.1' })).toEqual({
      state: 'NotApplicable',
      reason: 'IsInstallable is False: device attribute OSVersion is 10.0.22631.1; the rule requires OSVersion < 10.0.22622.0',
    });
  });
});

describe('a file under a folder a registry string names (…PrependRegSz): why it is absent', () => {
  const rule = leaf('FileVersionPrependRegSz', {
    Key: 'HKEY_LOCAL_MACHINE',
    Subkey: 'SOFTWARE\\App',
    Value: 'Dir',
    Path: 'b.exe',
    Comparison: 'GreaterThanOrEqualTo',
    Version: '1.0.0.0',
  });
  const dir = (value: { type: 'REG_DWORD' | 'REG_SZ'; data: number | string } | undefined, files: Inventory['files'] = []): Inventory =>
    inv({
      registry: [{ key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\App', exists: true, values: value ? [{ name: 'Dir', ...value }] : [] }],
      files,
    });
  const readOf = (machine: Inventory): string => {
    const r = updateRecord({ updateId: ID, revisionId: 1, rules: { IsInstalled: rule }, localized: [{ language: 'en', title: 'T' }] });
    const tree = formatExplanation(new Scanner(catalogOf([r], 't')).explain(machine, 0));
    const line = tree.split('\n').find((l) => l.includes('FileVersionPrependRegSz'));
    return line!.split('← ')[1];
  };
  it.each([
    ['the value is a DWORD', dir({ type: 'REG_DWORD', data: 7 }), 'absent (the registry value is REG_DWORD, not a string naming a folder)'],
    ['the value is not in its key', dir(undefined), 'absent (the registry value is absent)'],
    [
      'the folder has no such file',
      dir({ type: 'REG_SZ', data: 'D:\\App\\' }, [{ path: 'D:\\App\\b.exe', exists: false }]),
      'absent (no file D:\\App\\b.exe)',
    ],
  ])('%s: False, and explain says why', (_, machine, why) => {
    const o = outcome(rule, machine);
    expect(o.state).toBe('Required');
    expect(o.reason).toBe(
      `IsInstalled is False: file b.exe under registry HKEY_LOCAL_MACHINE\\software\\app\\dir: ${why}; the rule requires ` +
        'version >= 1.0.0.0; IsInstallable is absent (True by default)',
    );
    expect(readOf(machine)).toBe(
      `file b.exe under registry HKEY_LOCAL_MACHINE\\software\\app\\dir: ${why}; the rule requires version >= 1.0.0.0`,
    );
  });
});
