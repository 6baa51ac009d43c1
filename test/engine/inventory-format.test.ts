/**
 * The inventory format as documented: the JSON Schema (docs/inventory.schema.json) and the validator agree, the
 * collector's output format passes both, and the collector script reads every section a manifest can ask for.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateInventory } from '../../engine/inventory/validate.js';
import { MANIFEST_SCHEMA } from '../../engine/eval/manifest.js';
import { FIXTURES } from '../helpers/tmp.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'inventory.schema.json'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false });
const schemaValid = ajv.compile(schema);
const collectorOutput = JSON.parse(readFileSync(join(FIXTURES, 'inventories', 'win10-22h2-x64.json'), 'utf8'));

describe('inventory schema and validator', () => {
  it('the collector output fixture is valid for both', () => {
    expect(schemaValid(collectorOutput), JSON.stringify(schemaValid.errors)).toBe(true);
    expect(validateInventory(collectorOutput, 'fixture').computer.name).toBe('WS-0042');
  });

  const base = { schema: 'patchscan-inventory/1', computer: { name: 'PC' }, collectedAt: '2026-11-24T00:00:00Z' };
  it.each([
    ['wrong schema', { ...base, schema: 'x' }],
    ['no computer name', { ...base, computer: {} }],
    ['bad date', { ...base, collectedAt: 'today' }],
    ['string build', { ...base, os: { major: 10, minor: 0, build: '1', productType: 1 } }],
    ['bad file version', { ...base, files: [{ path: 'C:\\a', exists: true, version: 'x' }] }],
    ['file without exists', { ...base, files: [{ path: 'C:\\a' }] }],
    ['HKCU key', { ...base, registry: [{ key: 'HKEY_CURRENT_USER\\X', exists: true }] }],
    [
      'negative DWORD',
      { ...base, registry: [{ key: 'HKEY_LOCAL_MACHINE\\X', exists: true, values: [{ name: 'v', type: 'REG_DWORD', data: -1 }] }] },
    ],
    [
      'bad value type',
      { ...base, registry: [{ key: 'HKEY_LOCAL_MACHINE\\X', exists: true, values: [{ name: 'v', type: 'REG_X', data: 1 }] }] },
    ],
    ['bad product code', { ...base, msi: { products: [{ productCode: 'x' }] } }],
    ['unknown top-level field', { ...base, extra: 1 }],
  ])('both refuse: %s', (_name, doc) => {
    expect(schemaValid(doc)).toBe(false);
    expect(() => validateInventory(doc, 'doc')).toThrowError(/INVENTORY|doc: /);
  });
});

describe("the validator's fast path for files and registry keys", () => {
  // Most entries are checked by a quick boolean test and only bad ones by the detailed checker: the quick test must
  // never accept what the schema refuses. Mutate one field of a valid entry at a time; both must agree.
  const base = { schema: 'patchscan-inventory/1', computer: { name: 'PC' }, collectedAt: '2026-11-24T00:00:00Z' };
  const odd = fc.constantFrom<unknown>(
    undefined,
    null,
    true,
    0,
    -1,
    1.5,
    2 ** 32,
    '',
    'x',
    '1.2.3.4',
    'C:\\x',
    '2026-01-01T00:00:00Z',
    'HKEY_LOCAL_MACHINE\\A',
    'native',
    '32',
    'REG_SZ',
    'REG_DWORD',
    'REG_BINARY',
    'REG_MULTI_SZ',
    'REG_NONE',
    'zz',
    '0a',
    [],
    ['a'],
    [1],
    {},
  );
  const file = {
    path: 'C:\\Windows\\a.dll',
    exists: true,
    version: '10.0.1.2',
    size: 3,
    created: '2026-01-01T00:00:00Z',
    modified: '2026-01-01T00:00:00Z',
    language: 1033,
  };
  const key = {
    key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\A',
    view: 'native',
    exists: true,
    subkeys: ['B'],
    values: [
      { name: 'V', type: 'REG_DWORD', data: 1 },
      { name: 'S', type: 'REG_MULTI_SZ', data: ['a'] },
    ],
  };
  it('agrees with the JSON Schema on every one-field mutation', () => {
    const verdicts = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.constantFrom(...Object.keys(file), 'extra'),
        fc.constantFrom(...Object.keys(key), 'extra', 'values.0.type', 'values.0.data', 'values.1.data', 'values.0.name'),
        odd,
        (mutateFile, fk, kk, v) => {
          const fv = mutateFile ? v : (file as Record<string, unknown>)[fk];
          const kv = mutateFile ? undefined : v;
          const f: Record<string, unknown> = { ...file, [fk]: fv };
          if (fv === undefined) delete f[fk];
          const k: Record<string, unknown> = JSON.parse(JSON.stringify(key));
          if (mutateFile) {
            // the key stays as it is
          } else if (kk.startsWith('values.')) {
            const [, i, field] = kk.split('.');
            (k.values as Record<string, unknown>[])[Number(i)][field] = kv;
          } else k[kk] = kv;
          const doc = JSON.parse(JSON.stringify({ ...base, files: [f], registry: [k] }));
          let ours = true;
          try {
            validateInventory(doc, 'doc');
          } catch {
            ours = false;
          }
          expect(ours, JSON.stringify(doc)).toBe(schemaValid(doc));
          verdicts[ours ? 'accepted' : 'refused']++;
        },
      ),
      { numRuns: 600, seed: 11 },
    );
    expect(verdicts.accepted).toBeGreaterThan(30); // both verdicts are exercised
    expect(verdicts.refused).toBeGreaterThan(30);
  });
});

describe('PowerShell collector', () => {
  const script = readFileSync(join(ROOT, 'adapters', 'collector', 'Collect-PatchscanInventory.ps1'), 'utf8');
  it('checks the manifest schema and writes the inventory schema', () => {
    expect(script).toContain(`'${MANIFEST_SCHEMA}'`);
    expect(script).toContain("schema      = 'patchscan-inventory/1'");
  });
  it.each([
    'os',
    'processor',
    'cluster',
    'csidl',
    'files',
    'filesUnderRegistry',
    'registryKeys',
    'registrySubtrees',
    'wmi',
    'systemMetrics',
    'licensing',
    'deviceAttributes',
    'msiProducts',
    'cbsPackages',
    'productReleases',
  ])('reads manifest section %s', (section) => expect(script).toMatch(new RegExp(`\\$m\\.${section}\\b`)));
  it('writes a key asked for in the 32-bit view as native on 32-bit Windows, where the engine reads it', () => {
    expect(script).toMatch(/if \(\$view -eq '32' -and -not \[Environment\]::Is64BitOperatingSystem\) \{ \$view = 'native' \}/);
  });
  it('writes every inventory section the format defines that Windows can report', () => {
    for (const field of [
      'os',
      'processor',
      'cluster',
      'csidl',
      'files',
      'registry',
      'wmi',
      'systemMetrics',
      'licensing',
      'deviceAttributes',
      'msi',
      'cbs',
    ]) {
      expect(script, field).toMatch(new RegExp(`\\$inv\\.${field}\\s*=`));
    }
  });
});
