/**
 * The applicability rules patchscan knows (reference §3): one row per rule element, with the attributes it
 * requires and the inventory facts it reads. The importer uses it to tell a known rule from an unknown one;
 * the compiler uses `facts` to build the catalog's fact dictionary (what a collector must gather).
 *
 * A rule that is not here is kept as an "unsupported" node and evaluates to Unknown, naming itself.
 */
import type { RuleFamily, RuleMetadata } from '../model.js';
import { type Fact, fact, normalizeFilePath, normalizeRegKey, registryView } from './facts.js';

export interface RuleSpec {
  readonly family: RuleFamily;
  /** Attributes without which the rule cannot be evaluated (→ unsupported, "missing attribute"). */
  readonly required: readonly string[];
  /** `rule`: exactly one child rule (RegKeyLoop); `items`: non-rule child elements (MSI feature lists). */
  readonly children?: 'rule' | 'items';
  /** The facts one instance reads; `meta` is the update's Metadata blob when the rule needs it. */
  readonly facts: (attrs: Readonly<Record<string, string>>, meta: RuleMetadata | undefined, items: readonly ItemRef[]) => Fact[];
  /** Reference section, for `catalog show` and the docs. */
  readonly ref: string;
}

export interface ItemRef {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly text?: string;
}

const os = (): Fact[] => [fact('os')];
const file = (a: Readonly<Record<string, string>>): Fact[] => [fact('file', a.Csidl ?? '', normalizeFilePath(a.Path ?? ''))];
const fileUnderReg = (a: Readonly<Record<string, string>>): Fact[] => [
  fact(
    'fileUnderRegSz',
    registryView(a.RegType32),
    normalizeRegKey(a.Key, a.Subkey),
    (a.Value ?? '').toLowerCase(),
    normalizeFilePath(a.Path ?? ''),
  ),
];
const regKey = (a: Readonly<Record<string, string>>): Fact[] => [
  fact('regKey', registryView(a.RegType32), normalizeRegKey(a.Key, a.Subkey)),
];
const regValue = (a: Readonly<Record<string, string>>): Fact[] => [
  fact('regValue', registryView(a.RegType32), normalizeRegKey(a.Key, a.Subkey), (a.Value ?? '').toLowerCase()),
];
const metaFact =
  (kind: Parameters<typeof fact>[0], attr: string) =>
  (_a: Readonly<Record<string, string>>, meta: RuleMetadata | undefined): Fact[] => {
    const id = meta?.attrs[attr];
    return id ? [fact(kind, id.toLowerCase())] : [];
  };
const none = (): Fact[] => [];

const FILE_ATTRS = ['Path'];
const REG_VALUE = ['Key', 'Subkey'];

/** Known rule elements by local name. */
export const RULES = {
  // Base applicability rules (`bar:` / `b.`), reference §3.3
  WindowsVersion: { family: 'base', required: [], facts: os, ref: '§3.3-3.4' },
  PlatformVersion: { family: 'base', required: [], facts: os, ref: '§3.3' },
  Platform: { family: 'base', required: ['PlatformID'], facts: os, ref: '§3.3' },
  WindowsLanguage: { family: 'base', required: ['Language'], facts: () => [fact('osLanguage')], ref: '§3.3' },
  MuiInstalled: { family: 'base', required: [], facts: () => [fact('muiLanguages')], ref: '§3.3' },
  MuiLanguageInstalled: { family: 'base', required: ['Language'], facts: () => [fact('muiLanguages')], ref: '§3.3' },
  SystemMetric: {
    family: 'base',
    required: ['Comparison', 'Index', 'Value'],
    facts: (a) => [fact('systemMetric', a.Index ?? '')],
    ref: '§3.3',
  },
  Processor: { family: 'base', required: ['Architecture'], facts: () => [fact('processor')], ref: '§3.3, §3.9' },
  NumberOfProcessors: { family: 'base', required: ['Comparison', 'Number'], facts: () => [fact('processor')], ref: '§3.3' },
  ClusteredOS: { family: 'base', required: [], facts: () => [fact('cluster')], ref: '§3.3' },
  ClusterResourceOwner: { family: 'base', required: REG_VALUE, facts: (a) => [...regValue(a), fact('cluster')], ref: '§3.3' },
  FileExists: { family: 'base', required: FILE_ATTRS, facts: file, ref: '§3.3' },
  FileVersion: { family: 'base', required: ['Path', 'Comparison', 'Version'], facts: file, ref: '§3.3' },
  FileCreated: { family: 'base', required: ['Path', 'Comparison', 'Created'], facts: file, ref: '§3.3' },
  FileModified: { family: 'base', required: ['Path', 'Comparison', 'Modified'], facts: file, ref: '§3.3' },
  FileSize: { family: 'base', required: ['Path', 'Comparison', 'Size'], facts: file, ref: '§3.3' },
  FileExistsPrependRegSz: { family: 'base', required: ['Path', ...REG_VALUE], facts: fileUnderReg, ref: '§3.3' },
  FileVersionPrependRegSz: { family: 'base', required: ['Path', 'Comparison', 'Version', ...REG_VALUE], facts: fileUnderReg, ref: '§3.3' },
  FileCreatedPrependRegSz: { family: 'base', required: ['Path', 'Comparison', 'Created', ...REG_VALUE], facts: fileUnderReg, ref: '§3.3' },
  FileModifiedPrependRegSz: {
    family: 'base',
    required: ['Path', 'Comparison', 'Modified', ...REG_VALUE],
    facts: fileUnderReg,
    ref: '§3.3',
  },
  FileSizePrependRegSz: { family: 'base', required: ['Path', 'Comparison', 'Size', ...REG_VALUE], facts: fileUnderReg, ref: '§3.3' },
  RegKeyExists: { family: 'base', required: ['Key', 'Subkey'], facts: regKey, ref: '§3.3' },
  RegValueExists: { family: 'base', required: ['Key', 'Subkey'], facts: regValue, ref: '§3.3' },
  RegDword: { family: 'base', required: [...REG_VALUE, 'Comparison', 'Data'], facts: regValue, ref: '§3.3' },
  RegExpandSz: { family: 'base', required: [...REG_VALUE, 'Comparison', 'Data'], facts: regValue, ref: '§3.3' },
  RegSz: { family: 'base', required: [...REG_VALUE, 'Comparison', 'Data'], facts: regValue, ref: '§3.3' },
  RegSzToVersion: { family: 'base', required: [...REG_VALUE, 'Comparison', 'Data'], facts: regValue, ref: '§3.3' },
  RegKeyLoop: {
    family: 'base',
    required: ['Key', 'Subkey', 'TrueIf'],
    children: 'rule',
    facts: (a) => [fact('regSubtree', registryView(a.RegType32), normalizeRegKey(a.Key, a.Subkey))],
    ref: '§3.3',
  },
  WmiQuery: {
    family: 'base',
    required: ['WqlQuery'],
    facts: (a) => [fact('wmi', (a.Namespace ?? 'root\\cimv2').toLowerCase(), a.WqlQuery ?? '')],
    ref: '§3.3',
  },
  GenericQuery: {
    family: 'base',
    required: ['Namespace', 'Type', 'Parameter'],
    facts: (a) => [fact('genericQuery', a.Namespace ?? '', a.Type ?? '', a.Parameter ?? '')],
    ref: '§3.3',
  },
  InstalledOnce: { family: 'base', required: [], facts: none, ref: '§3.3 (semantics undocumented)' },
  LicenseDword: {
    family: 'base',
    required: ['Value', 'Comparison', 'Data'],
    facts: (a) => [fact('licenseDword', (a.Value ?? '').toLowerCase())],
    ref: '§3.3',
  },
  WUv4RegKeyValue: { family: 'base', required: ['Key', 'Subkey', 'Value', 'Data'], facts: regValue, ref: '§3.3' },
  WUv4RegKeySubstring: { family: 'base', required: ['Key', 'Subkey', 'Value', 'Data'], facts: regValue, ref: '§3.3' },
  Direct3D: { family: 'base', required: [], facts: () => [fact('hardware', 'direct3d')], ref: '§3.3' },
  Memory: { family: 'base', required: [], facts: () => [fact('hardware', 'memory')], ref: '§3.3' },
  VideoMemory: { family: 'base', required: [], facts: () => [fact('hardware', 'videomemory')], ref: '§3.3' },
  SensorById: { family: 'base', required: ['Id'], facts: () => [fact('hardware', 'sensors')], ref: '§3.3' },
  NFC: { family: 'base', required: [], facts: () => [fact('hardware', 'nfc')], ref: '§3.3' },
  Camera: { family: 'base', required: [], facts: () => [fact('hardware', 'camera')], ref: '§3.3' },

  // MSI applicability rules (`mar:`/`msiar:` / `m.`), reference §3.5
  MsiProductInstalled: {
    family: 'msi',
    required: ['ProductCode'],
    facts: (a) => [fact('msiProduct', (a.ProductCode ?? '').toLowerCase())],
    ref: '§3.5',
  },
  MsiFeatureInstalledForProduct: {
    family: 'msi',
    required: [],
    children: 'items',
    ref: '§3.5',
    facts: (_a, _m, items) => pairs(items, 'Product', 'Feature').map(([p, f]) => fact('msiFeature', p.toLowerCase(), f)),
  },
  MsiComponentInstalledForProduct: {
    family: 'msi',
    required: [],
    children: 'items',
    ref: '§3.5',
    facts: (_a, _m, items) => pairs(items, 'Product', 'Component').map(([p, c]) => fact('msiComponent', p.toLowerCase(), c.toLowerCase())),
  },
  MsiPatchInstalledForProduct: {
    family: 'msi',
    required: ['PatchCode', 'ProductCode'],
    ref: '§3.5',
    facts: (a) => [fact('msiPatch', (a.PatchCode ?? '').toLowerCase(), (a.ProductCode ?? '').toLowerCase())],
  },
  MsiPatchInstalled: { family: 'msi', required: [], facts: metaFact('msiPatchMetadata', 'PatchCode'), ref: '§3.5' },
  MsiPatchSuperseded: { family: 'msi', required: [], facts: metaFact('msiPatchMetadata', 'PatchCode'), ref: '§3.5' },
  MsiPatchInstallable: { family: 'msi', required: [], facts: metaFact('msiPatchMetadata', 'PatchCode'), ref: '§3.5' },
  MsiApplicationInstalled: { family: 'msi', required: [], facts: metaFact('msiProduct', 'ProductCode'), ref: '§3.5' },
  MsiApplicationSuperseded: { family: 'msi', required: [], facts: metaFact('msiProduct', 'ProductCode'), ref: '§3.5' },
  MsiApplicationInstallable: { family: 'msi', required: [], facts: metaFact('msiProduct', 'ProductCode'), ref: '§3.5' },

  // CBS rules (unprefixed), reference §3.6
  CbsPackageInstalledByIdentity: {
    family: 'cbs',
    required: ['PackageIdentity'],
    facts: (a) => [fact('cbsPackage', (a.PackageIdentity ?? '').toLowerCase())],
    ref: '§3.6',
  },
  CbsPackageInstalled: { family: 'cbs', required: [], facts: metaFact('cbsPackage', 'identity'), ref: '§3.6' },
  // Without DISM's applicability, inferred from the OS build, UBR and architecture (docs/semantics.md): a collector
  // must gather those too. The package fact stays first (the evaluator reads facts[0]).
  CbsPackageInstallable: {
    family: 'cbs',
    required: [],
    ref: '§3.6',
    facts: (a, meta) => {
      const pkg = metaFact('cbsPackage', 'identity')(a, meta);
      return pkg.length ? [...pkg, fact('os'), fact('processor')] : [];
    },
  },

  // Driver rules (`drv:` / `d.`), reference §3.7
  WindowsDriverInstalled: { family: 'driver', required: [], facts: metaFact('driver', 'HardwareID'), ref: '§3.7' },
  WindowsDriverSuperseded: { family: 'driver', required: [], facts: metaFact('driver', 'HardwareID'), ref: '§3.7' },
  WindowsDriverInstallable: { family: 'driver', required: [], facts: metaFact('driver', 'HardwareID'), ref: '§3.7' },
  FeatureScore: { family: 'driver', required: [], facts: () => [fact('hardware', 'driverfeaturescore')], ref: '§3.7' },
  DistributionComputerHardwareId: { family: 'driver', required: [], facts: () => [fact('hardware', 'computerhardwareid')], ref: '§3.7' },
  TargetComputerHardwareId: { family: 'driver', required: [], facts: () => [fact('hardware', 'computerhardwareid')], ref: '§3.7' },
  CompatibleProvider: { family: 'driver', required: [], facts: () => [fact('hardware', 'driverprovider')], ref: '§3.7' },
  InstalledVersionRange: { family: 'driver', required: [], facts: metaFact('driver', 'HardwareID'), ref: '§3.7' },

  // Newer rules seen in real metadata (unprefixed), reference §3.8
  ProductReleaseInstalled: {
    family: 'update',
    required: ['Name'],
    facts: (a) => [fact('productRelease', (a.Name ?? '').toLowerCase())],
    ref: '§3.8',
  },
  ProductReleaseVersion: {
    family: 'update',
    required: ['Name'],
    facts: (a) => [fact('productRelease', (a.Name ?? '').toLowerCase())],
    ref: '§3.8',
  },
  DeviceAttribute: {
    family: 'update',
    required: ['Name', 'Comparison', 'Value'],
    facts: (a) => [fact('deviceAttribute', (a.Name ?? '').toLowerCase())],
    ref: '§3.8',
  },
  AppxPackageInstalled: { family: 'update', required: [], facts: metaFact('appxPackage', 'PackageMoniker'), ref: '§3.8' },
  AppxPackageInstallable: { family: 'update', required: [], facts: metaFact('appxPackage', 'PackageMoniker'), ref: '§3.8' },
} as const satisfies Record<string, RuleSpec>;

export type KnownRuleType = keyof typeof RULES;

export function ruleSpec(type: string): RuleSpec | undefined {
  return Object.hasOwn(RULES, type) ? (RULES as Record<string, RuleSpec>)[type] : undefined;
}

/** Stable numeric ids for compiled catalogs: index in this list (append only: ids are part of the file format). */
export const RULE_TYPE_IDS: readonly string[] = Object.keys(RULES);

function pairs(items: readonly ItemRef[], left: string, right: string): [string, string][] {
  const ls = items.filter((i) => i.tag === left).map((i) => i.attrs.ProductCode ?? i.attrs.Code ?? i.text ?? '');
  const rs = items.filter((i) => i.tag === right).map((i) => i.attrs.Name ?? i.attrs.ComponentCode ?? i.attrs.Code ?? i.text ?? '');
  return ls.flatMap((l) => rs.map((r): [string, string] => [l, r]));
}
