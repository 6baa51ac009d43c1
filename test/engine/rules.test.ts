/**
 * One table of cases per rule family (the typescript-eslint way): a rule, a machine, the expected value.
 * Values are read through a one-update catalog: IsInstalled True → Installed, False → Required, Unknown → Unknown.
 */
import { describe, expect, it } from 'vitest';
import { CatalogBuilder } from '../../engine/catalog/builder.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { LeafRule, RuleFamily } from '../../engine/model.js';
import { Scanner } from '../../engine/scan/scan.js';

type V = 'True' | 'False' | 'Unknown';

function value(type: string, family: RuleFamily, attrs: Record<string, string>, inv: Partial<Inventory>, items?: LeafRule['items']): V {
  const b = new CatalogBuilder();
  b.addRecord({
    updateId: '11111111-2222-3333-4444-555555555555', revisionNumber: 1, revisionId: 1, updateType: 'Software', isLeaf: true, isBundle: false,
    deploymentAction: 'Install', explicitlyDeployable: true, categories: [], prerequisites: [], bundledUpdates: [], bundledByRevisionIds: [],
    supersedes: [], supersededByRevisionIds: [], rules: { IsInstalled: { kind: 'rule', type, family, attrs, ...(items ? { items } : {}) } }, severity: '', cves: [], localized: [],
  });
  const s = new Scanner(new Catalog(b.build({ kind: 'records', path: 't', sha256: '' })));
  const state = s.states({ schema: 'patchscan-inventory/1', computer: { name: 'T' }, collectedAt: '2026-01-01T00:00:00Z', ...inv })[0]!.state;
  return state === 'Installed' ? 'True' : state === 'Required' ? 'False' : 'Unknown';
}

const OFFICE = '{90160000-0011-0000-1000-0000000FF1CE}';
const msi = (version: string, language = 1033, extra: object = {}): Partial<Inventory> => ({ msi: { products: [{ productCode: OFFICE, version, language, ...extra }] } });

describe('MSI rules', () => {
  it.each<[string, Record<string, string>, Partial<Inventory>, V]>([
    ['installed', { ProductCode: OFFICE }, msi('16.0.1'), 'True'],
    ['braces and case do not matter', { ProductCode: OFFICE.toLowerCase().slice(1, -1) }, msi('16.0.1'), 'True'],
    ['not installed (complete list)', { ProductCode: '{00000000-0000-0000-0000-000000000000}' }, msi('16.0.1'), 'False'],
    ['list not collected', { ProductCode: OFFICE }, {}, 'Unknown'],
    ['VersionMin met', { ProductCode: OFFICE, VersionMin: '16.0.0.0' }, msi('16.0.4266.1001'), 'True'],
    ['VersionMin missed', { ProductCode: OFFICE, VersionMin: '16.0.5000.0' }, msi('16.0.4266.1001'), 'False'],
    ['ExcludeVersionMin excludes equality', { ProductCode: OFFICE, VersionMin: '16.0.4266.1001', ExcludeVersionMin: 'true' }, msi('16.0.4266.1001'), 'False'],
    ['VersionMax inclusive by default', { ProductCode: OFFICE, VersionMax: '16.0.4266.1001' }, msi('16.0.4266.1001'), 'True'],
    ['ExcludeVersionMax', { ProductCode: OFFICE, VersionMax: '16.0.4266.1001', ExcludeVersionMax: 'true' }, msi('16.0.4266.1001'), 'False'],
    ['Language filter', { ProductCode: OFFICE, Language: '1031' }, msi('16.0.1', 1033), 'False'],
    ['version not collected with a version filter', { ProductCode: OFFICE, VersionMin: '1.0.0.0' }, { msi: { products: [{ productCode: OFFICE }] } }, 'Unknown'],
  ])('MsiProductInstalled: %s', (_n, attrs, inv, want) => expect(value('MsiProductInstalled', 'msi', attrs, inv)).toBe(want));

  const PATCH = '{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}';
  it.each<[string, Partial<Inventory>, V]>([
    ['patch applied', msi('16.0.1', 1033, { patches: [PATCH.toLowerCase()] }), 'True'],
    ['patch not applied', msi('16.0.1', 1033, { patches: [] }), 'False'],
    ['patches not collected', msi('16.0.1'), 'Unknown'],
    ['product absent', { msi: { products: [] } }, 'False'],
  ])('MsiPatchInstalledForProduct: %s', (_n, inv, want) => expect(value('MsiPatchInstalledForProduct', 'msi', { PatchCode: PATCH, ProductCode: OFFICE }, inv)).toBe(want));

  it.each<[string, Record<string, string>, Partial<Inventory>, V]>([
    ['one of the features', {}, msi('16.0.1', 1033, { features: ['WORDFiles'] }), 'True'],
    ['all features required, one missing', { AllFeaturesRequired: 'true' }, msi('16.0.1', 1033, { features: ['WORDFiles'] }), 'False'],
    ['features not collected', {}, msi('16.0.1'), 'Unknown'],
  ])('MsiFeatureInstalledForProduct: %s', (_n, attrs, inv, want) => {
    const items = [{ tag: 'Product', attrs: { ProductCode: OFFICE } }, { tag: 'Feature', attrs: { Name: 'WORDFiles' } }, { tag: 'Feature', attrs: { Name: 'EXCELFiles' } }];
    expect(value('MsiFeatureInstalledForProduct', 'msi', attrs, inv, items)).toBe(want);
  });
});

describe('file and registry rules', () => {
  const sys = { csidl: { '37': 'C:\\Windows\\System32' } };
  const file = (f: object): Partial<Inventory> => ({ ...sys, files: [{ path: 'C:\\Windows\\System32\\a.dll', exists: true, ...f }] });
  it.each<[string, string, Record<string, string>, Partial<Inventory>, V]>([
    ['FileSize', 'FileSize', { Path: 'a.dll', Csidl: '37', Comparison: 'GreaterThan', Size: '100' }, file({ size: 101 }), 'True'],
    ['FileSize not collected', 'FileSize', { Path: 'a.dll', Csidl: '37', Comparison: 'GreaterThan', Size: '100' }, file({}), 'Unknown'],
    ['FileModified', 'FileModified', { Path: 'a.dll', Csidl: '37', Comparison: 'LessThan', Modified: '2024-01-01T00:00:00' }, file({ modified: '2023-06-01T00:00:00Z' }), 'True'],
    ['FileExists with Version that differs', 'FileExists', { Path: 'a.dll', Csidl: '37', Version: '1.0.0.0' }, file({ version: '1.0.0.1' }), 'False'],
    ['FileVersion without a version resource', 'FileVersion', { Path: 'a.dll', Csidl: '37', Comparison: 'GreaterThan', Version: '1.0.0.0' }, file({}), 'False'],
    ['duplicate backslashes and case in Path', 'FileExists', { Path: '\\\\A.DLL', Csidl: '37' }, file({}), 'True'],
  ])('%s', (_n, type, attrs, inv, want) => expect(value(type, 'base', attrs, inv)).toBe(want));

  const key = (values: object[], extra: object = {}): Partial<Inventory> => ({ registry: [{ key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\V', exists: true, values, ...extra } as never] });
  const reg = { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\V' };
  it.each<[string, string, Record<string, string>, Partial<Inventory>, V]>([
    ['RegSzToVersion', 'RegSzToVersion', { ...reg, Value: 'Ver', Comparison: 'GreaterThanOrEqualTo', Data: '4.8.0.0' }, key([{ name: 'Ver', type: 'REG_SZ', data: '4.8.09037' }]), 'True'],
    ['RegSzToVersion on a non-version', 'RegSzToVersion', { ...reg, Value: 'Ver', Comparison: 'GreaterThanOrEqualTo', Data: '4.8.0.0' }, key([{ name: 'Ver', type: 'REG_SZ', data: 'n/a' }]), 'False'],
    ['RegExpandSz Contains, case-insensitive', 'RegExpandSz', { ...reg, Value: 'P', Comparison: 'Contains', Data: 'SYSTEMROOT' }, key([{ name: 'P', type: 'REG_EXPAND_SZ', data: '%SystemRoot%\\x' }]), 'True'],
    ['RegDword on a REG_SZ is False', 'RegDword', { ...reg, Value: 'P', Comparison: 'EqualTo', Data: '1' }, key([{ name: 'P', type: 'REG_SZ', data: '1' }]), 'False'],
    ['RegValueExists with the wrong Type', 'RegValueExists', { ...reg, Value: 'P', Type: 'REG_DWORD' }, key([{ name: 'P', type: 'REG_SZ', data: '1' }]), 'False'],
    ['default value (empty name)', 'RegValueExists', { ...reg }, key([{ name: '', type: 'REG_SZ', data: 'x' }]), 'True'],
    ['values not collected', 'RegValueExists', { ...reg, Value: 'P' }, { registry: [{ key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\V', exists: true }] }, 'Unknown'],
    ['32-bit view asked on a 32-bit machine reads the only view', 'RegKeyExists', { ...reg, RegType32: 'true' }, { processor: { architecture: 0 }, ...key([]) }, 'True'],
    ['32-bit view asked on x64 is a separate view', 'RegKeyExists', { ...reg, RegType32: 'true' }, { processor: { architecture: 9 }, ...key([]) }, 'Unknown'],
    ['FileExistsPrependRegSz', 'FileExistsPrependRegSz', { ...reg, Value: 'Dir', Path: 'b.exe' }, { ...key([{ name: 'Dir', type: 'REG_SZ', data: 'D:\\App\\' }]), files: [{ path: 'D:\\App\\b.exe', exists: true }] }, 'True'],
    ['FileExistsPrependRegSz, folder value absent', 'FileExistsPrependRegSz', { ...reg, Value: 'Dir', Path: 'b.exe' }, key([]), 'False'],
  ])('%s', (_n, type, attrs, inv, want) => expect(value(type, 'base', attrs, inv)).toBe(want));
});

describe('OS, machine and device rules', () => {
  const os = (extra: object = {}): Partial<Inventory> => ({ os: { major: 10, minor: 0, build: 19045, productType: 1, installLanguage: 'de-DE', muiInstalled: false, uiLanguages: ['de-DE'], ...extra } });
  it.each<[string, string, Record<string, string>, Partial<Inventory>, V]>([
    ['WindowsLanguage primary subtag', 'WindowsLanguage', { Language: 'de' }, os(), 'True'],
    ['WindowsLanguage other language', 'WindowsLanguage', { Language: 'en' }, os(), 'False'],
    ['WindowsLanguage is False when MUI is installed', 'WindowsLanguage', { Language: 'de' }, os({ muiInstalled: true }), 'False'],
    ['MuiLanguageInstalled', 'MuiLanguageInstalled', { Language: 'fr-FR' }, os({ muiInstalled: true, uiLanguages: ['de-DE', 'fr-FR'] }), 'True'],
    ['NumberOfProcessors', 'NumberOfProcessors', { Comparison: 'GreaterThanOrEqualTo', Number: '4' }, { processor: { architecture: 9, count: 8 } }, 'True'],
    ['NumberOfProcessors not collected', 'NumberOfProcessors', { Comparison: 'GreaterThanOrEqualTo', Number: '4' }, { processor: { architecture: 9 } }, 'Unknown'],
    ['SystemMetric', 'SystemMetric', { Comparison: 'EqualTo', Index: '87', Value: '0' }, { systemMetrics: { '87': 0 } }, 'True'],
    ['LicenseDword not set (null) is False', 'LicenseDword', { Value: 'CE163B38-1AEC-47AF-854D-FC90ABD6951C', Comparison: 'EqualTo', Data: '1' }, { licensing: { 'ce163b38-1aec-47af-854d-fc90abd6951c': null } }, 'False'],
    ['Processor Level asked, not collected', 'Processor', { Architecture: '9', Level: '6' }, { processor: { architecture: 9 } }, 'Unknown'],
    ['Platform 2 (Windows NT)', 'Platform', { PlatformID: '2' }, os(), 'True'],
    ['ClusteredOS', 'ClusteredOS', {}, { cluster: { clustered: false } }, 'False'],
  ])('%s', (_n, type, attrs, inv, want) => expect(value(type, 'base', attrs, inv)).toBe(want));

  it.each<[string, Record<string, string>, Partial<Inventory>, V]>([
    ['Version comparison', { Name: 'OSVersion', Type: 'Version', Comparison: 'GreaterThanOrEqualTo', Value: '10.0.22621.1' }, { deviceAttributes: { OSVersion: '10.0.22621.2861' } }, 'True'],
    ['String comparison, case-insensitive', { Name: 'sku', Type: 'String', Comparison: 'EqualTo', Value: 'ENTERPRISE' }, { deviceAttributes: { sku: 'enterprise' } }, 'True'],
    ['collected as not set', { Name: 'sku', Type: 'String', Comparison: 'EqualTo', Value: '4' }, { deviceAttributes: { sku: null } }, 'False'],
    ['not collected', { Name: 'sku', Type: 'String', Comparison: 'EqualTo', Value: '4' }, { deviceAttributes: {} }, 'Unknown'],
  ])('DeviceAttribute: %s', (_n, attrs, inv, want) => expect(value('DeviceAttribute', 'update', attrs, inv)).toBe(want));
});
