/**
 * The inventory format as documented: the JSON Schema (docs/inventory.schema.json) and the validator agree, the
 * collector's output format passes both, and the collector script reads every section a manifest can ask for.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateInventory } from '../../engine/inventory/validate.js';
import { MANIFEST_SCHEMA } from '../../engine/inventory/manifest.js';
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
    ['negative DWORD', { ...base, registry: [{ key: 'HKEY_LOCAL_MACHINE\\X', exists: true, values: [{ name: 'v', type: 'REG_DWORD', data: -1 }] }] }],
    ['bad value type', { ...base, registry: [{ key: 'HKEY_LOCAL_MACHINE\\X', exists: true, values: [{ name: 'v', type: 'REG_X', data: 1 }] }] }],
    ['bad product code', { ...base, msi: { products: [{ productCode: 'x' }] } }],
    ['unknown top-level field', { ...base, extra: 1 }],
  ])('both refuse: %s', (_name, doc) => {
    expect(schemaValid(doc)).toBe(false);
    expect(() => validateInventory(doc, 'doc')).toThrowError(/INVENTORY|doc: /);
  });
});

describe('PowerShell collector', () => {
  const script = readFileSync(join(ROOT, 'adapters', 'collector', 'Collect-PatchscanInventory.ps1'), 'utf8');
  it('checks the manifest schema and writes the inventory schema', () => {
    expect(script).toContain(`'${MANIFEST_SCHEMA}'`);
    expect(script).toContain("schema      = 'patchscan-inventory/1'");
  });
  it.each(['os', 'processor', 'cluster', 'csidl', 'files', 'filesUnderRegistry', 'registryKeys', 'registrySubtrees', 'wmi', 'systemMetrics', 'licensing', 'deviceAttributes', 'msiProducts', 'cbsPackages', 'productReleases'])(
    'reads manifest section %s',
    (section) => expect(script).toMatch(new RegExp(`\\$m\\.${section}\\b`)),
  );
  it('writes every inventory section the format defines that Windows can report', () => {
    for (const field of ['os', 'processor', 'cluster', 'csidl', 'files', 'registry', 'wmi', 'systemMetrics', 'licensing', 'deviceAttributes', 'msi', 'cbs']) {
      expect(script, field).toMatch(new RegExp(`\\$inv\\.${field}\\s*=`));
    }
  });
});
