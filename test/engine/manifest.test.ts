/**
 * The collection manifest (engine/eval/manifest.ts) asks a collector for what rules/reads.ts says the catalog's
 * rules read, so the two cannot drift apart:
 * - for every rule type, a catalog holding only that rule asks for every section reads.ts says the rule reads (an
 *   instance with every required attribute and an identity in its update's metadata, and every rule-table case);
 * - over every rule-table case, the machine cut to exactly what that catalog's manifest asks for (the sections it
 *   asks for; of the CSIDL folders, maps and WMI queries, the entries it lists) gives the rule the same value;
 * - the bundled catalog's manifest asks for every section its rules read.
 */
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { buildManifest, manifestSections, sectionsRead, type Manifest } from '../../engine/eval/manifest.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { LeafRule, RuleMetadata } from '../../engine/model.js';
import { LOOP_TARGET } from '../../engine/eval/context.js';
import { FACT_SECTIONS, INVENTORY_SECTIONS, ruleReads, type InventorySection } from '../../engine/rules/reads.js';
import { RULES, type KnownRuleType } from '../../engine/rules/registry.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { ALL_CASES } from './rules/cases.js';
import { catalogValue, leafOf, machine, oneRuleCatalog, readsOf } from './rules/harness.js';

/** A value for each attribute a rule type requires (any well-formed one: the manifest depends on which facts, not values). */
const ATTR_VALUES: Readonly<Record<string, string>> = {
  Key: 'HKEY_LOCAL_MACHINE',
  Subkey: 'SOFTWARE\\Patchscan',
  Value: 'Level',
  Path: 'patchscan.dll',
  Comparison: 'EqualTo',
  Data: '1',
  Version: '1.0.0.0',
  Created: '2020-01-01T00:00:00',
  Modified: '2020-01-01T00:00:00',
  Size: '1',
  TrueIf: 'Any',
  WqlQuery: 'SELECT * FROM Win32_ComputerSystem',
  Namespace: 'root\\cimv2',
  Name: 'Patchscan',
  PackageIdentity: 'Package_for_KB1~31bf3856ad364e35~amd64~~1.0.0.0',
  ProductCode: '{11111111-2222-3333-4444-555555555555}',
  PatchCode: '{66666666-2222-3333-4444-555555555555}',
};

/** One instance of a rule type: every required attribute, a CSIDL folder, MSI items, a loop child, identities in metadata. */
function instanceOf(type: KnownRuleType): { rule: LeafRule; meta: RuleMetadata } {
  const spec = RULES[type];
  const attrs: Record<string, string> = { Csidl: '37', RegType32: 'true' };
  for (const a of spec.required) attrs[a] = ATTR_VALUES[a] ?? '1';
  const children = 'children' in spec ? spec.children : undefined;
  const rule: LeafRule = {
    kind: 'rule',
    type,
    family: spec.family,
    attrs,
    ...(children === 'items'
      ? {
          items: [
            { tag: 'Product', attrs: { Code: ATTR_VALUES.ProductCode } },
            { tag: 'Feature', attrs: { Name: 'Main' } },
            { tag: 'Component', attrs: { ComponentCode: '{77777777-2222-3333-4444-555555555555}' } },
          ],
        }
      : {}),
    ...(children === 'rule'
      ? { child: { kind: 'rule', type: 'RegValueExists', family: 'base', attrs: { Key: 'HKEY_LOOP_TARGET', Subkey: '', Value: 'Level' } } }
      : {}),
  };
  const meta: RuleMetadata = {
    element: 'Metadata',
    attrs: {
      identity: ATTR_VALUES.PackageIdentity,
      PatchCode: ATTR_VALUES.PatchCode,
      ProductCode: ATTR_VALUES.ProductCode,
      HardwareID: 'pci\\ven_8086',
      PackageMoniker: 'Patchscan_1.0.0.0_x64__8wekyb3d8bbwe',
    },
  };
  return { rule, meta };
}

/**
 * The sections reads.ts says a rule reads, but for facts under HKEY_LOOP_TARGET: in a RegKeyLoop the loop's subtree
 * fact reads them; outside one they read nothing (the rule is Unknown).
 */
function sectionsOf(rule: LeafRule, meta: RuleMetadata | undefined): Set<InventorySection> {
  const read = new Set<InventorySection>();
  for (const f of readsOf(rule, meta).facts) {
    if (!f.args.some((a) => a.startsWith(LOOP_TARGET))) for (const s of FACT_SECTIONS[f.kind]) read.add(s);
  }
  for (const n of [rule, rule.child]) if (n?.kind === 'rule') for (const s of ruleReads(n.type).sections ?? []) read.add(s);
  return read;
}

const missingFrom = (m: Manifest, rule: LeafRule, meta: RuleMetadata | undefined): string[] => {
  const asked = manifestSections(m);
  return [...sectionsOf(rule, meta)].filter((s) => !asked.has(s));
};

describe('a catalog of one rule: its manifest asks for every section rules/reads.ts says the rule reads', () => {
  for (const type of Object.keys(RULES) as KnownRuleType[]) {
    it(type, () => {
      const { rule, meta } = instanceOf(type);
      expect(missingFrom(buildManifest(oneRuleCatalog(rule, meta)), rule, meta), 'sections read, not asked for').toEqual([]);
      for (const { c } of ALL_CASES.filter((x) => x.type === type)) {
        const leaf = leafOf(type, c);
        expect(missingFrom(buildManifest(oneRuleCatalog(leaf, c.meta)), leaf, c.meta), c.name).toEqual([]);
      }
    });
  }

  it('a registry rule asks for the processor, which picks its 32/64-bit view; a file rule does not', () => {
    const reg = instanceOf('RegDword');
    const m = buildManifest(oneRuleCatalog(reg.rule, reg.meta));
    expect(m.processor).toBe(true);
    expect(m.registryKeys).toEqual([{ view: '32', key: 'HKEY_LOCAL_MACHINE\\software\\patchscan' }]);
    const file = instanceOf('FileVersion');
    expect(buildManifest(oneRuleCatalog(file.rule, file.meta)).processor).toBe(false);
  });
});

/** The machine as a collector following `m` would write it: the sections it asks for, of some only the entries it lists. */
function cutTo(inv: Inventory, m: Manifest): Inventory {
  const asked = manifestSections(m);
  const out: Record<string, unknown> = { schema: inv.schema, computer: inv.computer, collectedAt: inv.collectedAt };
  for (const s of INVENTORY_SECTIONS) if (s !== 'osRevision' && asked.has(s) && inv[s] !== undefined) out[s] = inv[s];
  const pick = <T>(map: Readonly<Record<string, T>> | undefined, keys: readonly string[]): Record<string, T> | undefined =>
    map && Object.fromEntries(Object.entries(map).filter(([k]) => keys.some((key) => key.toLowerCase() === k.toLowerCase())));
  if (out.csidl) out.csidl = pick(inv.csidl, m.csidl);
  if (out.systemMetrics) out.systemMetrics = pick(inv.systemMetrics, m.systemMetrics);
  if (out.licensing) out.licensing = pick(inv.licensing, m.licensing);
  if (out.deviceAttributes) out.deviceAttributes = pick(inv.deviceAttributes, m.deviceAttributes);
  if (inv.wmi && out.wmi) {
    const listed = (q: { namespace: string; query: string }): boolean =>
      m.wmi.some((w) => w.namespace === q.namespace.toLowerCase() && w.query === q.query);
    out.wmi = inv.wmi.filter(listed);
  }
  return out as unknown as Inventory;
}

describe('the machine cut to exactly its manifest gives every rule-table case the same value', () => {
  for (const { type, kind, c } of ALL_CASES) {
    it(`${type} ${kind}: ${c.name}`, () => {
      const catalog = oneRuleCatalog(leafOf(type, c), c.meta);
      const inv = machine(c.machine);
      const full = catalogValue(catalog, inv);
      const cut = catalogValue(catalog, cutTo(inv, buildManifest(catalog)));
      expect(cut.value, cut.reason).toBe(full.value);
    });
  }
});

describe('the bundled catalog', () => {
  it('its manifest asks for every section its rules read, the processor among them', () => {
    const c = new Catalog(readCatalogFile(bundledCatalogFile()));
    const asked = manifestSections(buildManifest(c));
    const read = sectionsRead(c);
    expect(read.has('processor')).toBe(true);
    expect([...read].filter((s) => !asked.has(s))).toEqual([]);
  });
});
