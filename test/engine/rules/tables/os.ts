/**
 * OS, language, processor and machine rules (reference §3.3, §3.4, §3.9), WMI and the query rules patchscan does
 * not evaluate, and the device-targeting rules (USS only) that an inventory cannot answer.
 */
import type { Inventory, InventoryOs } from '../../../../engine/inventory/types.js';
import type { RuleTables } from '../harness.js';

const os = (extra: Partial<InventoryOs> = {}): Partial<Inventory> => ({
  os: {
    major: 10,
    minor: 0,
    build: 19045,
    productType: 1,
    installLanguage: 'de-DE',
    muiInstalled: false,
    uiLanguages: ['de-DE'],
    ...extra,
  },
});
const win7sp1: Partial<Inventory> = { os: { major: 6, minor: 1, build: 7601, spMajor: 1, spMinor: 0, productType: 1, suiteMask: 0x0100 } };
const LICENSE = 'CE163B38-1AEC-47AF-854D-FC90ABD6951C';
const HP_QUERY = "select * from Win32_ComputerSystem where Manufacturer='HP'";
const wmi = (count: number): Partial<Inventory> => ({ wmi: [{ namespace: 'ROOT\\CIMV2', query: HP_QUERY, count }] });
const notEvaluated = (reason: RegExp): RuleTables[keyof RuleTables] => ({
  valid: [],
  invalid: [],
  unknown: [
    { name: 'an inventory cannot answer it', machine: { ...os(), processor: { architecture: 9, count: 8 } }, fact: 'rule', reason },
  ],
});

export const OS_RULES: RuleTables = {
  WindowsVersion: {
    valid: [
      {
        name: 'build ≥ 17763 on 19045',
        attrs: { Comparison: 'GreaterThanOrEqualTo', MajorVersion: '10', MinorVersion: '0', BuildNumber: '17763' },
        machine: os(),
        fact: 'os',
      },
      {
        name: 'LessThan 10.0 on 6.3 (major/minor as one tuple)',
        attrs: { Comparison: 'LessThan', MajorVersion: '10', MinorVersion: '0' },
        machine: { os: { major: 6, minor: 3, build: 9600, productType: 1 } },
        fact: 'os',
      },
      {
        name: 'Comparison defaults to EqualTo; service pack and product type',
        attrs: { MajorVersion: '6', MinorVersion: '1', ServicePackMajor: '1', ProductType: '1' },
        machine: win7sp1,
        fact: 'os',
      },
      { name: 'SuiteMask, any bit', attrs: { SuiteMask: '258', AllSuitesMustBePresent: 'false' }, machine: win7sp1, fact: 'os' },
    ],
    invalid: [
      {
        name: 'LessThan 10.0 build 17763 on 10.0.14393 (the tuple is equal, not less)',
        attrs: { Comparison: 'LessThan', MajorVersion: '10', MinorVersion: '0', BuildNumber: '17763' },
        machine: { os: { major: 10, minor: 0, build: 14393, productType: 1 } },
        fact: 'os',
      },
      { name: 'another product type (server)', attrs: { MajorVersion: '10', ProductType: '3' }, machine: os(), fact: 'os' },
      { name: 'SuiteMask, all bits required', attrs: { SuiteMask: '258', AllSuitesMustBePresent: 'true' }, machine: win7sp1, fact: 'os' },
      {
        name: 'a failing condition decides even when the suite mask was not collected',
        attrs: { MajorVersion: '6', SuiteMask: '256' },
        machine: os(),
        fact: 'os',
      },
    ],
    unknown: [
      { name: 'OS not collected', attrs: { MajorVersion: '10' }, machine: {}, fact: 'os', reason: /OS version was not collected/ },
      { name: 'suite mask asked, not collected', attrs: { MajorVersion: '10', SuiteMask: '256' }, machine: os(), fact: 'os' },
      {
        name: 'MajorVersion is not a number',
        attrs: { MajorVersion: 'ten' },
        machine: os(),
        fact: 'rule',
        reason: /invalid attribute data/,
      },
      // The schema's numbers are unsigned: a negative one names no Windows there is (Comparison GreaterThan would be
      // True on every machine).
      ...(['MajorVersion', 'BuildNumber', 'SuiteMask'] as const).map((attr) => ({
        name: `${attr} is negative`,
        attrs: { Comparison: 'GreaterThan', [attr]: '-1' },
        machine: os(),
        fact: 'rule' as const,
        reason: new RegExp(`invalid attribute data: ${attr} "-1" is outside 0 to 4294967295`),
      })),
    ],
  },
  PlatformVersion: {
    valid: [
      {
        name: 'as WindowsVersion',
        attrs: { Comparison: 'GreaterThanOrEqualTo', MajorVersion: '6', MinorVersion: '1' },
        machine: os(),
        fact: 'os',
      },
    ],
    invalid: [{ name: 'older', attrs: { Comparison: 'GreaterThanOrEqualTo', MajorVersion: '11' }, machine: os(), fact: 'os' }],
    unknown: [{ name: 'OS not collected', attrs: { MajorVersion: '6' }, machine: {}, fact: 'os' }],
  },
  Platform: {
    valid: [{ name: 'PlatformID 2 (Windows NT)', attrs: { PlatformID: '2' }, machine: os(), fact: 'os' }],
    invalid: [{ name: 'PlatformID 1 (Windows 9x)', attrs: { PlatformID: '1' }, machine: os(), fact: 'os' }],
    unknown: [{ name: 'OS not collected', attrs: { PlatformID: '2' }, machine: {}, fact: 'os' }],
  },
  WindowsLanguage: {
    valid: [
      { name: 'primary subtag', attrs: { Language: 'de' }, machine: os(), fact: 'os' },
      { name: 'full tag, case-insensitive', attrs: { Language: 'DE-de' }, machine: os(), fact: 'os' },
    ],
    invalid: [
      { name: 'another language', attrs: { Language: 'en' }, machine: os(), fact: 'os' },
      { name: 'False whenever MUI is installed (documented)', attrs: { Language: 'de' }, machine: os({ muiInstalled: true }), fact: 'os' },
      { name: 'another region', attrs: { Language: 'de-AT' }, machine: os(), fact: 'os' },
    ],
    unknown: [
      { name: 'install language not collected', attrs: { Language: 'de' }, machine: os({ installLanguage: undefined }), fact: 'os' },
      { name: 'MUI state not collected', attrs: { Language: 'de' }, machine: os({ muiInstalled: undefined }), fact: 'os' },
      // The schema requires Language: without it the rule names no language to compare with.
      { name: 'no Language', machine: os(), fact: 'rule', reason: /invalid attribute data: Language is missing/ },
    ],
  },
  MuiInstalled: {
    valid: [{ name: 'MUI installed', machine: os({ muiInstalled: true }), fact: 'os' }],
    invalid: [{ name: 'MUI not installed', machine: os(), fact: 'os' }],
    unknown: [{ name: 'MUI state not collected', machine: os({ muiInstalled: undefined }), fact: 'os' }],
  },
  MuiLanguageInstalled: {
    valid: [
      {
        name: 'a UI language',
        attrs: { Language: 'fr-FR' },
        machine: os({ muiInstalled: true, uiLanguages: ['de-DE', 'fr-FR'] }),
        fact: 'os',
      },
    ],
    invalid: [
      {
        name: 'not among the UI languages',
        attrs: { Language: 'it' },
        machine: os({ muiInstalled: true, uiLanguages: ['de-DE', 'fr-FR'] }),
        fact: 'os',
      },
      { name: 'False whenever MUI is not installed (documented)', attrs: { Language: 'de' }, machine: os(), fact: 'os' },
    ],
    unknown: [
      {
        name: 'UI languages not collected',
        attrs: { Language: 'fr' },
        machine: os({ muiInstalled: true, uiLanguages: undefined }),
        fact: 'os',
      },
    ],
  },
  SystemMetric: {
    valid: [
      {
        name: 'SM_REMOTESESSION (87) = 0',
        attrs: { Comparison: 'EqualTo', Index: '87', Value: '0' },
        machine: { systemMetrics: { '87': 0 } },
        fact: 'systemMetrics',
      },
    ],
    invalid: [
      {
        name: 'another value',
        attrs: { Comparison: 'EqualTo', Index: '87', Value: '0' },
        machine: { systemMetrics: { '87': 1 } },
        fact: 'systemMetrics',
      },
      {
        name: 'collected as not available (null)',
        attrs: { Comparison: 'EqualTo', Index: '87', Value: '0' },
        machine: { systemMetrics: { '87': null } },
        fact: 'systemMetrics',
      },
    ],
    unknown: [
      {
        name: 'that index not collected',
        attrs: { Comparison: 'EqualTo', Index: '87', Value: '0' },
        machine: { systemMetrics: { '0': 1920 } },
        fact: 'systemMetrics',
      },
    ],
  },
  Processor: {
    valid: [
      { name: 'x64', attrs: { Architecture: '9' }, machine: { processor: { architecture: 9 } }, fact: 'processor' },
      {
        name: 'level and revision',
        attrs: { Architecture: '0', Level: '6', Revision: '15' },
        machine: { processor: { architecture: 0, level: 6, revision: 15 } },
        fact: 'processor',
      },
    ],
    invalid: [
      { name: 'ARM64 is not x64', attrs: { Architecture: '9' }, machine: { processor: { architecture: 12 } }, fact: 'processor' },
      {
        name: 'another architecture decides even when Level was not collected',
        attrs: { Architecture: '9', Level: '6' },
        machine: { processor: { architecture: 12 } },
        fact: 'processor',
      },
      {
        name: 'another level',
        attrs: { Architecture: '9', Level: '6' },
        machine: { processor: { architecture: 9, level: 15 } },
        fact: 'processor',
      },
    ],
    unknown: [
      {
        name: 'processor not collected',
        attrs: { Architecture: '9' },
        machine: {},
        fact: 'processor',
        reason: /processor was not collected/,
      },
      {
        name: 'Level asked, not collected',
        attrs: { Architecture: '9', Level: '6' },
        machine: { processor: { architecture: 9 } },
        fact: 'processor',
      },
    ],
  },
  NumberOfProcessors: {
    valid: [
      {
        name: 'at least 4',
        attrs: { Comparison: 'GreaterThanOrEqualTo', Number: '4' },
        machine: { processor: { architecture: 9, count: 8 } },
        fact: 'processor',
      },
    ],
    invalid: [
      {
        name: 'fewer',
        attrs: { Comparison: 'GreaterThanOrEqualTo', Number: '4' },
        machine: { processor: { architecture: 9, count: 2 } },
        fact: 'processor',
      },
    ],
    unknown: [
      {
        name: 'count not collected',
        attrs: { Comparison: 'GreaterThanOrEqualTo', Number: '4' },
        machine: { processor: { architecture: 9 } },
        fact: 'processor',
      },
    ],
  },
  ClusteredOS: {
    valid: [{ name: 'clustered', machine: { cluster: { clustered: true } }, fact: 'cluster' }],
    invalid: [{ name: 'not clustered', machine: { cluster: { clustered: false } }, fact: 'cluster' }],
    unknown: [{ name: 'not collected', machine: {}, fact: 'cluster' }],
  },
  LicenseDword: {
    valid: [
      {
        name: 'policy value equal (GUID case does not matter)',
        attrs: { Value: LICENSE, Comparison: 'EqualTo', Data: '1' },
        machine: { licensing: { [LICENSE.toLowerCase()]: 1 } },
        fact: 'licensing',
      },
    ],
    invalid: [
      {
        name: 'another value',
        attrs: { Value: LICENSE, Comparison: 'EqualTo', Data: '1' },
        machine: { licensing: { [LICENSE]: 0 } },
        fact: 'licensing',
      },
      {
        name: 'collected as not set (null)',
        attrs: { Value: LICENSE, Comparison: 'EqualTo', Data: '1' },
        machine: { licensing: { [LICENSE]: null } },
        fact: 'licensing',
      },
    ],
    unknown: [
      {
        name: 'that policy not collected',
        attrs: { Value: LICENSE, Comparison: 'EqualTo', Data: '1' },
        machine: { licensing: {} },
        fact: 'licensing',
      },
    ],
  },
  WmiQuery: {
    valid: [
      {
        name: 'at least one instance (namespace case-insensitive)',
        attrs: { Namespace: 'root\\cimv2', WqlQuery: HP_QUERY },
        machine: wmi(1),
        fact: 'wmi',
      },
      { name: 'Namespace defaults to root\\cimv2', attrs: { WqlQuery: HP_QUERY }, machine: wmi(2), fact: 'wmi' },
    ],
    invalid: [{ name: 'no instance', attrs: { Namespace: 'root\\cimv2', WqlQuery: HP_QUERY }, machine: wmi(0), fact: 'wmi' }],
    unknown: [
      {
        name: 'that query not collected',
        attrs: { Namespace: 'root\\cimv2', WqlQuery: 'select * from Win32_BIOS' },
        machine: wmi(1),
        fact: 'wmi',
        reason: /WMI query .* was not collected/,
      },
      { name: 'another namespace not collected', attrs: { Namespace: 'root\\wmi', WqlQuery: HP_QUERY }, machine: wmi(1), fact: 'wmi' },
      {
        // Namespace "a|b" with query "c" is not namespace "a" with query "b|c" (they once shared one lookup key).
        name: 'a pair that spells another pair when joined',
        attrs: { Namespace: 'root\\a', WqlQuery: 'b|select * from Win32_BIOS' },
        machine: { wmi: [{ namespace: 'root\\a|b', query: 'select * from Win32_BIOS', count: 1 }] },
        fact: 'wmi',
      },
    ],
  },
  GenericQuery: {
    valid: [],
    invalid: [],
    unknown: [
      {
        name: 'semantics undocumented',
        attrs: { Namespace: 'n', Type: 't', Parameter: 'p' },
        machine: os(),
        fact: 'rule',
        reason: /rule GenericQuery is not evaluated: its semantics are undocumented/,
      },
    ],
  },
  InstalledOnce: notEvaluated(/rule InstalledOnce is not evaluated: its semantics are undocumented/),
  Direct3D: notEvaluated(/rule Direct3D is not evaluated/),
  Memory: notEvaluated(/rule Memory is not evaluated/),
  VideoMemory: notEvaluated(/rule VideoMemory is not evaluated/),
  SensorById: {
    valid: [],
    invalid: [],
    unknown: [
      { name: 'sensors are not collected', attrs: { Id: '{1}' }, machine: os(), fact: 'rule', reason: /rule SensorById is not evaluated/ },
    ],
  },
  NFC: notEvaluated(/rule NFC is not evaluated/),
  Camera: notEvaluated(/rule Camera is not evaluated/),
};
