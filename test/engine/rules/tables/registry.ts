/**
 * Registry rules (reference §3.3, §3.9): keys and values of HKLM, in the native or the 32-bit view; a value missing
 * from a collected key is absent (False); a key is absent when listed so or when its nearest collected ancestor's
 * complete subkey list lacks it.
 */
import type { Inventory, InventoryRegistryKey, InventoryRegistryValue } from '../../../../engine/inventory/types.js';
import type { RuleTables } from '../harness.js';

const PATH = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso';
const K = { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\Contoso' };
const key = (values: InventoryRegistryValue[], extra: Partial<InventoryRegistryKey> = {}): Partial<Inventory> => ({
  registry: [{ key: PATH, exists: true, values, ...extra }],
});
const dword = (name: string, data: number): InventoryRegistryValue => ({ name, type: 'REG_DWORD', data });
const sz = (name: string, data: string, type: 'REG_SZ' | 'REG_EXPAND_SZ' = 'REG_SZ'): InventoryRegistryValue => ({ name, type, data });
const noValues: Partial<Inventory> = { registry: [{ key: PATH, exists: true }] };

/** HKLM\SOFTWARE\Contoso\Apps with subkeys A and B, each with a Level value. */
const apps = (a: number | undefined, b: number | undefined, view?: '32'): Partial<Inventory> => ({
  registry: [
    { key: `${PATH}\\Apps`, exists: true, subkeys: ['A', 'B'], ...(view ? { view } : {}) },
    { key: `${PATH}\\Apps\\A`, exists: true, values: a === undefined ? [] : [dword('Level', a)], ...(view ? { view } : {}) },
    ...(b === undefined ? [] : [{ key: `${PATH}\\Apps\\B`, exists: true, values: [dword('Level', b)], ...(view ? { view } : {}) }]),
  ],
  processor: { architecture: 9 },
});
const LOOP = { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\Contoso\\Apps' };
const levelAtLeast2 = {
  kind: 'rule',
  type: 'RegDword',
  family: 'base',
  attrs: { Key: 'HKEY_LOOP_TARGET', Subkey: '', Value: 'Level', Comparison: 'GreaterThanOrEqualTo', Data: '2' },
} as const;

export const REGISTRY_RULES: RuleTables = {
  RegKeyExists: {
    valid: [
      { name: 'listed as existing', attrs: K, machine: key([]), fact: 'registry' },
      {
        name: 'trailing and doubled backslashes, case',
        attrs: { Key: 'HKEY_LOCAL_MACHINE', Subkey: '\\software\\\\CONTOSO\\' },
        machine: key([]),
        fact: 'registry',
      },
      {
        name: '32-bit view asked on a 32-bit machine reads its only view',
        attrs: { ...K, RegType32: 'true' },
        machine: { ...key([]), processor: { architecture: 0 } },
        fact: 'registry',
      },
      {
        name: '32-bit view listed',
        attrs: { ...K, RegType32: '1' },
        machine: { registry: [{ key: PATH, view: '32', exists: true }], processor: { architecture: 9 } },
        fact: 'registry',
      },
    ],
    invalid: [
      { name: 'listed as not existing', attrs: K, machine: { registry: [{ key: PATH, exists: false }] }, fact: 'registry' },
      {
        name: "the parent's complete subkey list lacks it",
        attrs: K,
        machine: { registry: [{ key: 'HKEY_LOCAL_MACHINE\\SOFTWARE', exists: true, subkeys: ['Fabrikam'] }] },
        fact: 'registry',
      },
      {
        name: 'an ancestor is absent',
        attrs: { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\Contoso\\Deep\\Er' },
        machine: { registry: [{ key: PATH, exists: false }] },
        fact: 'registry',
      },
    ],
    unknown: [
      {
        name: 'not collected',
        attrs: K,
        machine: { registry: [] },
        fact: 'registry',
        reason: /registry key HKEY_LOCAL_MACHINE\\software\\contoso was not collected/,
      },
      {
        name: 'the parent is listed without its subkeys',
        attrs: K,
        machine: { registry: [{ key: 'HKEY_LOCAL_MACHINE\\SOFTWARE', exists: true }] },
        fact: 'registry',
      },
      {
        name: '32-bit view asked on x64: a separate view, not collected',
        attrs: { ...K, RegType32: 'true' },
        machine: { ...key([]), processor: { architecture: 9 } },
        fact: 'registry',
      },
      { name: 'HKEY_LOOP_TARGET outside a loop', attrs: { Key: 'HKEY_LOOP_TARGET', Subkey: 'X' }, machine: key([]), fact: 'rule' },
    ],
  },
  RegValueExists: {
    valid: [
      { name: 'value present', attrs: { ...K, Value: 'Level' }, machine: key([dword('level', 1)]), fact: 'registry' },
      { name: 'the default value (no Value)', attrs: K, machine: key([sz('', 'x')]), fact: 'registry' },
      { name: 'Type matches', attrs: { ...K, Value: 'Level', Type: 'REG_DWORD' }, machine: key([dword('Level', 1)]), fact: 'registry' },
    ],
    invalid: [
      { name: 'missing from the collected key', attrs: { ...K, Value: 'Level' }, machine: key([]), fact: 'registry' },
      { name: 'another Type', attrs: { ...K, Value: 'Level', Type: 'REG_DWORD' }, machine: key([sz('Level', '1')]), fact: 'registry' },
      {
        name: 'the key is absent',
        attrs: { ...K, Value: 'Level' },
        machine: { registry: [{ key: PATH, exists: false }] },
        fact: 'registry',
      },
    ],
    unknown: [
      { name: "the key's values were not collected", attrs: { ...K, Value: 'Level' }, machine: noValues, fact: 'registry' },
      // A Type no value can have would be False for every machine: bad attribute data, not an answer.
      ...['REG_BOGUS', 'reg_dword'].map((Type) => ({
        name: `Type ${Type} is not a registry value type`,
        attrs: { ...K, Value: 'Level', Type },
        machine: key([dword('Level', 1)]),
        fact: 'rule' as const,
        reason: new RegExp(`invalid attribute data: Type "${Type}" is not a registry value type`),
      })),
      {
        name: 'RegType32 is not a boolean',
        attrs: { ...K, Value: 'Level', RegType32: 'maybe' },
        machine: key([dword('Level', 1)]),
        fact: 'rule',
        reason: /invalid attribute data: RegType32 "maybe" is not a boolean/,
      },
    ],
  },
  RegDword: {
    valid: [
      {
        name: 'UBR ≥ 320',
        attrs: { ...K, Value: 'UBR', Comparison: 'GreaterThanOrEqualTo', Data: '320' },
        machine: key([dword('UBR', 320)]),
        fact: 'registry',
      },
      {
        name: 'EqualTo',
        attrs: { ...K, Value: 'UUPFlags', Comparison: 'EqualTo', Data: '0' },
        machine: key([dword('UUPFlags', 0)]),
        fact: 'registry',
      },
    ],
    invalid: [
      {
        name: 'below',
        attrs: { ...K, Value: 'UBR', Comparison: 'GreaterThanOrEqualTo', Data: '320' },
        machine: key([dword('UBR', 100)]),
        fact: 'registry',
      },
      {
        name: 'a REG_SZ is not a DWORD',
        attrs: { ...K, Value: 'UBR', Comparison: 'EqualTo', Data: '1' },
        machine: key([sz('UBR', '1')]),
        fact: 'registry',
      },
      { name: 'value absent', attrs: { ...K, Value: 'UBR', Comparison: 'LessThan', Data: '1' }, machine: key([]), fact: 'registry' },
    ],
    unknown: [
      {
        name: 'values not collected',
        attrs: { ...K, Value: 'UBR', Comparison: 'LessThan', Data: '1' },
        machine: noValues,
        fact: 'registry',
      },
      {
        name: 'Data is not a number',
        attrs: { ...K, Value: 'UBR', Comparison: 'LessThan', Data: 'x' },
        machine: key([dword('UBR', 1)]),
        fact: 'rule',
        reason: /invalid attribute data/,
      },
      // A DWORD is 0 to 4294967295 (the schema's xs:unsignedInt): past it no value compares as the catalog meant.
      ...['4294967297', '-1'].map((Data) => ({
        name: `Data ${Data} is no DWORD`,
        attrs: { ...K, Value: 'UBR', Comparison: 'LessThan', Data },
        machine: key([dword('UBR', 1)]),
        fact: 'rule' as const,
        reason: new RegExp(`invalid attribute data: Data "${Data}" is outside 0 to 4294967295`),
      })),
    ],
  },
  RegSz: {
    valid: [
      {
        name: 'EqualTo, case-insensitive',
        attrs: { ...K, Value: 'Lang', Comparison: 'EqualTo', Data: '0409' },
        machine: key([sz('Lang', '0409')]),
        fact: 'registry',
      },
      {
        name: 'BeginsWith',
        attrs: { ...K, Value: 'Name', Comparison: 'BeginsWith', Data: 'CON' },
        machine: key([sz('Name', 'contoso ltd')]),
        fact: 'registry',
      },
      {
        name: 'EndsWith on a REG_EXPAND_SZ',
        attrs: { ...K, Value: 'Name', Comparison: 'EndsWith', Data: 'LTD' },
        machine: key([sz('Name', 'contoso ltd', 'REG_EXPAND_SZ')]),
        fact: 'registry',
      },
    ],
    invalid: [
      {
        name: 'another string',
        attrs: { ...K, Value: 'Lang', Comparison: 'EqualTo', Data: '0409' },
        machine: key([sz('Lang', '0407')]),
        fact: 'registry',
      },
      {
        name: 'a DWORD is not a string',
        attrs: { ...K, Value: 'Lang', Comparison: 'Contains', Data: '4' },
        machine: key([dword('Lang', 409)]),
        fact: 'registry',
      },
    ],
    unknown: [
      { name: 'key not collected', attrs: { ...K, Value: 'Lang', Comparison: 'EqualTo', Data: '0409' }, machine: {}, fact: 'registry' },
      {
        name: 'a scalar Comparison is not a string comparison',
        attrs: { ...K, Value: 'Lang', Comparison: 'LessThan', Data: '0409' },
        machine: key([sz('Lang', '0407')]),
        fact: 'rule',
        reason: /not a string comparison/,
      },
    ],
  },
  RegExpandSz: {
    valid: [
      {
        name: 'Contains, case-insensitive',
        attrs: { ...K, Value: 'P', Comparison: 'Contains', Data: 'SYSTEMROOT' },
        machine: key([sz('P', '%SystemRoot%\\x', 'REG_EXPAND_SZ')]),
        fact: 'registry',
      },
    ],
    invalid: [
      {
        name: 'does not contain',
        attrs: { ...K, Value: 'P', Comparison: 'Contains', Data: 'ProgramFiles' },
        machine: key([sz('P', '%SystemRoot%\\x', 'REG_EXPAND_SZ')]),
        fact: 'registry',
      },
    ],
    unknown: [
      { name: 'values not collected', attrs: { ...K, Value: 'P', Comparison: 'Contains', Data: 'x' }, machine: noValues, fact: 'registry' },
    ],
  },
  RegSzToVersion: {
    valid: [
      {
        name: 'a three-part version string',
        attrs: { ...K, Value: 'Ver', Comparison: 'GreaterThanOrEqualTo', Data: '4.8.0.0' },
        machine: key([sz('Ver', '4.8.09037')]),
        fact: 'registry',
      },
    ],
    invalid: [
      {
        name: 'older',
        attrs: { ...K, Value: 'Ver', Comparison: 'GreaterThanOrEqualTo', Data: '4.8.0.0' },
        machine: key([sz('Ver', '4.7.3062')]),
        fact: 'registry',
      },
      {
        name: 'not a version',
        attrs: { ...K, Value: 'Ver', Comparison: 'GreaterThanOrEqualTo', Data: '4.8.0.0' },
        machine: key([sz('Ver', 'n/a')]),
        fact: 'registry',
      },
    ],
    unknown: [
      {
        name: 'values not collected',
        attrs: { ...K, Value: 'Ver', Comparison: 'EqualTo', Data: '1.0' },
        machine: noValues,
        fact: 'registry',
      },
      {
        name: 'Data is not a version',
        attrs: { ...K, Value: 'Ver', Comparison: 'EqualTo', Data: 'new' },
        machine: key([sz('Ver', '1.0')]),
        fact: 'rule',
        reason: /Data "new" is not a version/,
      },
    ],
  },
  RegKeyLoop: {
    valid: [
      { name: 'Any: one subkey matches', attrs: { ...LOOP, TrueIf: 'Any' }, child: levelAtLeast2, machine: apps(1, 3), fact: 'registry' },
      { name: 'All: every subkey matches', attrs: { ...LOOP, TrueIf: 'All' }, child: levelAtLeast2, machine: apps(2, 3), fact: 'registry' },
      { name: 'None: no subkey matches', attrs: { ...LOOP, TrueIf: 'None' }, child: levelAtLeast2, machine: apps(0, 1), fact: 'registry' },
      {
        name: 'All over an absent key',
        attrs: { ...LOOP, TrueIf: 'All' },
        child: levelAtLeast2,
        machine: { registry: [{ key: `${PATH}\\Apps`, exists: false }] },
        fact: 'registry',
      },
      {
        name: 'Any in the 32-bit view: the child reads that view too',
        attrs: { ...LOOP, TrueIf: 'Any', RegType32: 'true' },
        child: levelAtLeast2,
        machine: apps(5, undefined, '32'),
        fact: 'registry',
      },
      {
        name: 'a loop inside a 32-bit loop visits the 32-bit view',
        attrs: { ...K, TrueIf: 'Any', RegType32: 'true' },
        child: {
          kind: 'rule',
          type: 'RegKeyLoop',
          family: 'base',
          attrs: { Key: 'HKEY_LOOP_TARGET', Subkey: '', TrueIf: 'Any' },
          child: levelAtLeast2,
        },
        machine: {
          ...apps(5, undefined, '32'),
          registry: [{ key: PATH, view: '32', exists: true, subkeys: ['Apps'] }, ...apps(5, undefined, '32').registry!],
        },
        fact: 'registry',
      },
    ],
    invalid: [
      { name: 'Any: none matches', attrs: { ...LOOP, TrueIf: 'Any' }, child: levelAtLeast2, machine: apps(0, 1), fact: 'registry' },
      {
        name: 'All: one does not match, though another is unknown',
        attrs: { ...LOOP, TrueIf: 'All' },
        child: levelAtLeast2,
        machine: apps(0, undefined),
        fact: 'registry',
      },
      {
        name: 'Any over an absent key',
        attrs: { ...LOOP, TrueIf: 'Any' },
        child: levelAtLeast2,
        machine: { registry: [{ key: `${PATH}\\Apps`, exists: false }] },
        fact: 'registry',
      },
    ],
    unknown: [
      {
        name: 'Any: none matches but one subkey was not collected',
        attrs: { ...LOOP, TrueIf: 'Any' },
        child: levelAtLeast2,
        machine: apps(0, undefined),
        fact: 'registry',
      },
      {
        name: 'subkeys not collected',
        attrs: { ...LOOP, TrueIf: 'Any' },
        child: levelAtLeast2,
        machine: { registry: [{ key: `${PATH}\\Apps`, exists: true }] },
        fact: 'registry',
      },
      {
        name: 'TrueIf is not Any, All or None',
        attrs: { ...LOOP, TrueIf: 'Some' },
        child: levelAtLeast2,
        machine: apps(5, 5),
        fact: 'rule',
        reason: /TrueIf "Some"/,
      },
    ],
  },
  ClusterResourceOwner: {
    valid: [],
    invalid: [],
    unknown: [
      {
        name: 'cluster resource ownership is not collected',
        attrs: { ...K, Value: 'Owner' },
        machine: { ...key([sz('Owner', 'NODE1')]), cluster: { clustered: true } },
        fact: 'rule',
        reason: /is not evaluated: cluster resource ownership is not collected/,
      },
    ],
  },
  WUv4RegKeyValue: {
    valid: [],
    invalid: [],
    unknown: [
      {
        name: 'semantics undocumented',
        attrs: { ...K, Value: 'V', Data: '1' },
        machine: key([dword('V', 1)]),
        fact: 'rule',
        reason: /is not evaluated: its semantics are undocumented/,
      },
    ],
  },
  WUv4RegKeySubstring: {
    valid: [],
    invalid: [],
    unknown: [
      {
        name: 'semantics undocumented',
        attrs: { ...K, Value: 'V', Data: 'x' },
        machine: key([sz('V', 'x')]),
        fact: 'rule',
        reason: /is not evaluated: its semantics are undocumented/,
      },
    ],
  },
};
