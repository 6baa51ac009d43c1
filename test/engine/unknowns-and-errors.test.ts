/**
 * Unknown rule elements, bad rule data, missing facts and malformed inventories: exact Unknown reasons and
 * exact error messages (code + field), never a crash or a guess.
 */
import { describe, expect, it } from 'vitest';
import { type Catalog } from '../../engine/catalog/catalog.js';
import { PatchscanError } from '../../engine/errors.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { jsonErrorWhere, decodeInventory, validateInventory } from '../../engine/inventory/validate.js';
import type { RuleNode } from '../../engine/model.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { Packr } from 'msgpackr';
import { catalogOf, updateRecord } from '../helpers/update-record.js';

const ID = '11111111-2222-3333-4444-555555555555';

function single(rule: RuleNode, slot: 'IsInstalled' | 'IsInstallable' = 'IsInstalled'): { s: Scanner; c: Catalog } {
  const c = catalogOf(
    [updateRecord({ updateId: ID, revisionId: 1, rules: { [slot]: rule }, localized: [{ language: 'en', title: 'T' }] })],
    't',
  );
  return { s: new Scanner(c), c };
}

const inv = (over: Partial<Inventory> = {}): Inventory => ({
  schema: 'patchscan-inventory/1',
  computer: { name: 'PC' },
  collectedAt: '2026-11-24T00:00:00Z',
  ...over,
});

function outcome(rule: RuleNode, i: Inventory = inv()): { state: string; reason: string } {
  const { s } = single(rule);
  const [row] = s.scan(i, { all: true });
  return { state: row.state, reason: row.reason };
}

describe('Unknown, with the rule named', () => {
  it('an unknown rule element', () => {
    expect(
      outcome({ kind: 'unsupported', element: 'b.RegQword', attrs: { Key: 'HKEY_LOCAL_MACHINE' }, reason: 'unknown rule element' }),
    ).toEqual({
      state: 'Unknown',
      reason: 'IsInstalled is Unknown: rule b.RegQword is not supported: unknown rule element',
    });
  });

  it('a rule type patchscan does not know, given as a rule record (the library path, not the XML reader)', () => {
    // It compiled to the number of whatever rule type came after the known ones: "rule #15 is not evaluated".
    expect(outcome({ kind: 'rule', type: 'NoSuchRule', family: 'base', attrs: { X: '1' } })).toEqual({
      state: 'Unknown',
      reason: 'IsInstalled is Unknown: rule NoSuchRule is not supported: unknown rule type',
    });
  });

  it('a known rule with invalid attribute data (WU_E_EE_INVALID_ATTRIBUTEDATA)', () => {
    const r = outcome({
      kind: 'rule',
      type: 'FileVersion',
      family: 'base',
      attrs: { Path: 'a.dll', Csidl: '37', Comparison: 'Bigger', Version: '1.0.0.0' },
    });
    expect(r.state).toBe('Unknown');
    expect(r.reason).toBe(
      'IsInstalled is Unknown: rule FileVersion has invalid attribute data: Comparison "Bigger" is not a scalar comparison',
    );
  });

  it('a known rule patchscan cannot evaluate offline', () => {
    const r = outcome({ kind: 'rule', type: 'GenericQuery', family: 'base', attrs: { Namespace: 'n', Type: 't', Parameter: 'p' } });
    expect(r.reason).toBe('IsInstalled is Unknown: rule GenericQuery is not evaluated: its semantics are undocumented');
  });

  it('a missing fact names the fact', () => {
    const r = outcome({
      kind: 'rule',
      type: 'RegDword',
      family: 'base',
      attrs: { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\X', Value: 'V', Comparison: 'EqualTo', Data: '1' },
    });
    expect(r.state).toBe('Unknown');
    expect(r.reason).toBe(
      'IsInstalled is Unknown: registry value HKEY_LOCAL_MACHINE\\software\\x\\v was not collected; the rule requires V = 1',
    );
  });

  it('Unknown never hides a decided answer: And(False, Unknown) is False, Or(True, Unknown) is True', () => {
    const unk: RuleNode = { kind: 'unsupported', element: 'b.X', attrs: {}, reason: 'unknown rule element' };
    expect(outcome({ kind: 'and', children: [{ kind: 'const', value: false }, unk] }).state).toBe('Required');
    expect(outcome({ kind: 'or', children: [{ kind: 'const', value: true }, unk] }).state).toBe('Installed');
    expect(outcome({ kind: 'not', child: unk }).state).toBe('Unknown');
  });

  it('RegKeyLoop: evaluates its child per subkey through HKEY_LOOP_TARGET', () => {
    const loop = (trueIf: string): RuleNode => ({
      kind: 'rule',
      type: 'RegKeyLoop',
      family: 'base',
      attrs: { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\Vendor\\Products', TrueIf: trueIf },
      child: {
        kind: 'rule',
        type: 'RegSz',
        family: 'base',
        attrs: { Key: 'HKEY_LOOP_TARGET', Subkey: '', Value: 'Version', Comparison: 'BeginsWith', Data: '2.' },
      },
    });
    const machine = inv({
      registry: [
        { key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\Products', exists: true, subkeys: ['A', 'B'] },
        {
          key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\Products\\A',
          exists: true,
          values: [{ name: 'Version', type: 'REG_SZ', data: '2.1' }],
        },
        {
          key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\Products\\B',
          exists: true,
          values: [{ name: 'Version', type: 'REG_SZ', data: '1.9' }],
        },
      ],
    });
    expect(outcome(loop('Any'), machine).state).toBe('Installed');
    expect(outcome(loop('All'), machine).state).toBe('Required');
    expect(outcome(loop('None'), machine).state).toBe('Required');
    // A subkey whose values were not collected leaves All undecided only if nothing else decided it.
    const partial = inv({
      registry: [
        { key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\Products', exists: true, subkeys: ['A', 'C'] },
        {
          key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\Products\\A',
          exists: true,
          values: [{ name: 'Version', type: 'REG_SZ', data: '2.1' }],
        },
      ],
    });
    expect(outcome(loop('Any'), partial).state).toBe('Installed');
    expect(outcome(loop('All'), partial).state).toBe('Unknown');
  });
});

describe('WindowsVersion follows VerifyVersionInfo', () => {
  const wv = (attrs: Record<string, string>): RuleNode => ({ kind: 'rule', type: 'WindowsVersion', family: 'base', attrs });
  const on = (major: number, minor: number, build: number, extra: Partial<NonNullable<Inventory['os']>> = {}): Inventory =>
    inv({ os: { major, minor, build, productType: 1, ...extra } });
  it.each([
    // [attrs, machine, expected IsInstalled]
    [{ Comparison: 'LessThan', MajorVersion: '10', MinorVersion: '0', BuildNumber: '14393' }, on(6, 3, 9600), 'Installed'],
    [{ Comparison: 'LessThan', MajorVersion: '10', MinorVersion: '0', BuildNumber: '17763' }, on(10, 0, 14393), 'Required'], // equal (10,0) is not LessThan
    [{ Comparison: 'GreaterThanOrEqualTo', MajorVersion: '10', MinorVersion: '0', BuildNumber: '17763' }, on(10, 0, 19045), 'Installed'],
    [
      { Comparison: 'GreaterThanOrEqualTo', MajorVersion: '6', MinorVersion: '1', ServicePackMajor: '1' },
      on(6, 1, 7601, { spMajor: 0 }),
      'Required',
    ],
    [
      { Comparison: 'GreaterThanOrEqualTo', MajorVersion: '6', MinorVersion: '1', ServicePackMajor: '1' },
      on(6, 1, 7601, { spMajor: 1 }),
      'Installed',
    ],
    [{ MajorVersion: '6', MinorVersion: '3', ProductType: '3' }, on(6, 3, 9600), 'Required'], // default EqualTo; ProductType 1 ≠ 3
    [
      { MajorVersion: '6', MinorVersion: '3', SuiteMask: '384', AllSuitesMustBePresent: 'true' },
      on(6, 3, 9600, { suiteMask: 0x110 }),
      'Required',
    ],
    [{ MajorVersion: '6', MinorVersion: '3', SuiteMask: '272' }, on(6, 3, 9600, { suiteMask: 0x110 }), 'Installed'],
  ] as const)('%j on %j → %s', (attrs, machine, state) => {
    expect(outcome(wv(attrs), machine).state).toBe(state);
  });
});

describe('malformed inventories: INVENTORY_INVALID naming the field', () => {
  const base = { schema: 'patchscan-inventory/1', computer: { name: 'PC' }, collectedAt: '2026-11-24T00:00:00Z' };
  const error = (doc: unknown): string => {
    try {
      validateInventory(doc, 'pc.json');
    } catch (e) {
      expect(PatchscanError.is(e, 'INVENTORY_INVALID')).toBe(true);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };
  it.each([
    [{ ...base, schema: 'patchscan-inventory/2' }, 'pc.json: schema: must be "patchscan-inventory/1", got "patchscan-inventory/2"'],
    [{ ...base, schema: null }, 'pc.json: schema: must be "patchscan-inventory/1", got null'],
    [{ not: 'an inventory' }, 'pc.json: schema: missing: an inventory document has "schema": "patchscan-inventory/1" (docs/inventory.md)'],
    [{ ...base, computer: {} }, 'pc.json: computer.name: must be a string, got undefined'],
    [{ ...base, collectedAt: 'yesterday' }, 'pc.json: collectedAt: must be an ISO 8601 date-time, got "yesterday"'],
    [{ ...base, collectedAt: '2026-99-99T99:99Z' }, 'pc.json: collectedAt: must be a real date and time, got "2026-99-99T99:99Z"'],
    [{ ...base, collectedAt: '2026-02-30T08:00:00Z' }, 'pc.json: collectedAt: must be a real date and time, got "2026-02-30T08:00:00Z"'],
    [
      { ...base, collectedAt: '2026-11-24T08:00:00+25:00' },
      'pc.json: collectedAt: must be a real date and time, got "2026-11-24T08:00:00+25:00"',
    ],
    [
      { ...base, os: { major: 10, minor: 0, build: '19045', productType: 1 } },
      'pc.json: os.build: must be an integer from 0 to 4294967295, got "19045"',
    ],
    [
      { ...base, files: [{ path: 'C:\\a.dll', exists: true, version: '1.2.x' }] },
      'pc.json: files[0].version: must be a version such as 10.0.19041.3803, got "1.2.x"',
    ],
    [
      {
        ...base,
        files: [
          { path: 'C:\\a.dll', exists: true },
          { path: 'c:\\A.DLL', exists: false },
        ],
      },
      'pc.json: files[1].path: duplicates files[0].path',
    ],
    [
      { ...base, registry: [{ key: 'HKEY_CURRENT_USER\\X', exists: true }] },
      'pc.json: registry[0].key: must be a key under HKEY_LOCAL_MACHINE, got "HKEY_CURRENT_USER\\\\X"',
    ],
    [
      { ...base, registry: [{ key: 'HKEY_LOCAL_MACHINE\\X', exists: true, values: [{ name: 'V', type: 'REG_DWORD', data: -1 }] }] },
      'pc.json: registry[0].values[0].data: must be an integer from 0 to 4294967295, got -1',
    ],
    [
      { ...base, registry: [{ key: 'HKEY_LOCAL_MACHINE\\X', exists: true, values: [{ name: 'V', type: 'REG_WEIRD', data: 1 }] }] },
      'pc.json: registry[0].values[0].type: must be one of REG_SZ, REG_EXPAND_SZ, ' +
        'REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY, REG_NONE, got "REG_WEIRD"',
    ],
    // A value name or a map key given twice (case aside, as Windows and the lookups match them) would make a rule's
    // answer depend on which comes first.
    [
      {
        ...base,
        registry: [
          {
            key: 'HKEY_LOCAL_MACHINE\\X',
            exists: true,
            values: [
              { name: 'V', type: 'REG_DWORD', data: 7 },
              { name: 'v', type: 'REG_DWORD', data: 5 },
            ],
          },
        ],
      },
      'pc.json: registry[0].values[1].name: duplicates registry[0].values[0].name',
    ],
    [
      { ...base, licensing: { 'CE163B38-0000': 1, 'ce163b38-0000': 0 } },
      'pc.json: licensing.ce163b38-0000: duplicates licensing.CE163B38-0000',
    ],
    // A WMI query is looked up by its namespace (case aside) and its text: one count per pair.
    [
      {
        ...base,
        wmi: [
          { namespace: 'root\\cimv2', query: 'Q', count: 1 },
          { namespace: 'ROOT\\CIMV2', query: 'Q', count: 0 },
        ],
      },
      'pc.json: wmi[1]: duplicates wmi[0]',
    ],
    [{ ...base, deviceAttributes: { Model: 'a', MODEL: 'b' } }, 'pc.json: deviceAttributes.MODEL: duplicates deviceAttributes.Model'],
    [
      { ...base, msi: { products: [{ productCode: 'office' }] } },
      'pc.json: msi.products[0].productCode: must be a product code GUID, got "office"',
    ],
    [
      { ...base, cbs: { packages: [{ identity: 'Package_for_KB1', state: 'Installed' }] } },
      'pc.json: cbs.packages[0].identity: must be a CBS identity (name~token~arch~lang~version), got "Package_for_KB1"',
    ],
    [
      { ...base, colour: 'blue' },
      'pc.json: colour: is not a known field (known: schema, computer, collectedAt, ' +
        'os, processor, csidl, files, registry, msi, cbs, wmi, systemMetrics, licensing, ' +
        'cluster, productReleases, deviceAttributes)',
    ],
    [[1, 2], 'pc.json: (document): must be an object, got an array'],
  ])('%#: %s', (doc, message) => {
    expect(error(doc)).toBe(message);
  });

  it('limits: a list longer than maxEntries is refused', () => {
    expect(() =>
      validateInventory({ ...base, files: Array.from({ length: 11 }, (_, i) => ({ path: `C:\\${i}`, exists: false })) }, 'big.json', {
        maxEntries: 10,
        maxString: 100,
        maxBytes: 1 << 20,
      }),
    ).toThrowError('big.json: files: has 11 entries, more than the limit of 10');
    expect(() =>
      decodeInventory(Buffer.from(JSON.stringify(base)), 'huge.json', 'json', { maxEntries: 10, maxString: 100, maxBytes: 20 }),
    ).toThrowError('huge.json: more than the 20 bytes allowed for one inventory');
  });

  it('JSON and msgpack encodings decode to the same inventory; garbage names the encoding', () => {
    const doc = { ...base, os: { major: 10, minor: 0, build: 19045, productType: 1 } };
    const fromJson = decodeInventory(Buffer.from(JSON.stringify(doc)), 'a.json');
    const fromMsgpack = decodeInventory(new Packr({ useRecords: false }).pack(doc), 'a.msgpack');
    expect(fromMsgpack).toEqual(fromJson);
    expect(() => decodeInventory(Buffer.from('{"schema":'), 'bad.json')).toThrowError(/^bad\.json: not valid JSON: /);
    // Where, as an editor counts: line and column (V8 says a character offset, or nothing at the end of the input).
    expect(() => decodeInventory(Buffer.from('{"schema":'), 'bad.json')).toThrowError(/not valid JSON: .*\(line 1, column 11\)$/);
    expect(() => decodeInventory(Buffer.from('\uFEFF{\n  "schema": 1\n  "computer": {}\n}'), 'bad.json')).toThrowError(
      /not valid JSON: .* at position 18 \(line 3, column 3\)$/,
    );
    expect(jsonErrorWhere('Unexpected token', 'x')).toBe('Unexpected token (line 1, column 1)');
    expect(jsonErrorWhere('Unexpected token', '{}')).toBe('Unexpected token'); // no error in the text: nothing to add
    // Lines end at LF, CRLF or a lone CR; a column counts characters (an emoji is one, not two UTF-16 units).
    expect(jsonErrorWhere('x', '{\r"a": 1,\r\n"b": x}')).toBe('x (line 3, column 6)');
    expect(jsonErrorWhere('x', '{"😀": x}')).toBe('x (line 1, column 7)');
    expect(() => decodeInventory(Buffer.from([0x81, 0xc1]), 'bad.msgpack')).toThrowError(/^bad\.msgpack: not valid msgpack: /);
    expect(() => decodeInventory(Buffer.from([0xc1, 0x00]), 'bad.msgpack', 'msgpack')).toThrowError(/^bad\.msgpack: not valid msgpack: /);
  });

  it('bytes that say no format are JSON when they open with {, JSON whitespace or a byte-order mark, msgpack when they open a map, else refused as neither', () => {
    const json = JSON.stringify(base);
    for (const lead of ['\t', '\r\n', ' ', '\uFEFF'])
      expect(decodeInventory(Buffer.from(lead + json), 'a.json').computer).toEqual(base.computer);
    expect(() => decodeInventory(Buffer.from('garbage'), 'x.jsonl:2')).toThrowError(
      'x.jsonl:2: is neither a JSON object nor a msgpack map (it starts with byte 0x67, "g")',
    );
    expect(() => decodeInventory(Buffer.from(`\uFEFF${json}`, 'utf16le'), 'u16.json')).toThrowError(
      'u16.json: is UTF-16 text (it starts with a UTF-16 byte-order mark); an inventory in JSON must be UTF-8',
    );
    expect(() => decodeInventory(new Packr({ useRecords: false }).pack([1, 2]), 'f.msgpack#3')).toThrowError(
      'f.msgpack#3: is neither a JSON object nor a msgpack map (it starts with byte 0x92)',
    );
    expect(() => decodeInventory(Buffer.alloc(0), 'e.json')).toThrowError('e.json: has no bytes');
  });
});
