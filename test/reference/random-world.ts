/**
 * Random worlds for differential testing: catalogs (categories, detectoids, leaf updates with random rule trees,
 * bundles, supersedence, missing references) and inventories (facts collected, absent, or missing), limited to the
 * rule types the reference evaluator knows. Used by the property test and by the engine ÷ reference benchmark.
 */
import fc from 'fast-check';
import type { Inventory, InventoryFile } from '../../engine/inventory/types.js';
import type { Prerequisite, RuleNode, UpdateRecord } from '../../engine/model.js';

const G = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const FILES = ['kernel32.dll', 'drivers\\tcpip.sys', 'mso.dll'];
const VERSIONS = ['1.0.0.0', '2.0.0.0', '2.5.0.0', '3.0.0.0'];
const KEYS = ['SOFTWARE\\Contoso', 'SOFTWARE\\Contoso\\Sub', 'SOFTWARE\\Fabrikam'];
const VALUES = ['Level', 'Name'];
const PRODUCTS = ['{11111111-2222-3333-4444-555555555555}', '{66666666-7777-8888-9999-000000000000}'];
const CBS = ['Package_for_KB1~31bf3856ad364e35~amd64~~10.0.1.0', 'Package_for_KB2~31bf3856ad364e35~amd64~~10.0.2.0'];
const CMP = ['LessThan', 'LessThanOrEqualTo', 'EqualTo', 'GreaterThanOrEqualTo', 'GreaterThan'] as const;
const SCMP = ['EqualTo', 'BeginsWith', 'Contains', 'EndsWith'] as const;

const leaf = (type: string, attrs: Record<string, string>): RuleNode => ({ kind: 'rule', type, family: type.startsWith('Cbs') ? 'cbs' : type.startsWith('Msi') ? 'msi' : 'base', attrs });

const leafArb: fc.Arbitrary<RuleNode> = fc.oneof(
  fc.record({ cmp: fc.constantFrom(...CMP), major: fc.constantFrom('6', '10'), minor: fc.constantFrom('0', '1', '3'), build: fc.option(fc.constantFrom('7601', '9600', '17763', '19045'), { nil: undefined }), pt: fc.option(fc.constantFrom('1', '3'), { nil: undefined }) })
    .map(({ cmp, major, minor, build, pt }) => leaf('WindowsVersion', { Comparison: cmp, MajorVersion: major, MinorVersion: minor, ...(build ? { BuildNumber: build } : {}), ...(pt ? { ProductType: pt } : {}) })),
  fc.constantFrom('0', '9', '12').map((a) => leaf('Processor', { Architecture: a })),
  fc.constantFrom(...FILES).map((p) => leaf('FileExists', { Path: p, Csidl: '37' })),
  fc.record({ p: fc.constantFrom(...FILES), c: fc.constantFrom(...CMP), v: fc.constantFrom(...VERSIONS) }).map(({ p, c, v }) => leaf('FileVersion', { Path: `\\${p}`, Csidl: '37', Comparison: c, Version: v })),
  fc.constantFrom(...KEYS).map((k) => leaf('RegKeyExists', { Key: 'HKEY_LOCAL_MACHINE', Subkey: k })),
  fc.record({ k: fc.constantFrom(...KEYS), v: fc.constantFrom(...VALUES) }).map(({ k, v }) => leaf('RegValueExists', { Key: 'HKEY_LOCAL_MACHINE', Subkey: k, Value: v })),
  fc.record({ k: fc.constantFrom(...KEYS), c: fc.constantFrom(...CMP), d: fc.integer({ min: 0, max: 4 }) }).map(({ k, c, d }) => leaf('RegDword', { Key: 'HKEY_LOCAL_MACHINE', Subkey: k, Value: 'Level', Comparison: c, Data: String(d) })),
  fc.record({ k: fc.constantFrom(...KEYS), c: fc.constantFrom(...SCMP), d: fc.constantFrom('contoso', 'CON', 'so', 'x') }).map(({ k, c, d }) => leaf('RegSz', { Key: 'HKEY_LOCAL_MACHINE', Subkey: k, Value: 'Name', Comparison: c, Data: d })),
  fc.constantFrom(...PRODUCTS).map((p) => leaf('MsiProductInstalled', { ProductCode: p })),
  fc.constantFrom(...CBS).map((id) => leaf('CbsPackageInstalledByIdentity', { PackageIdentity: id })),
  fc.boolean().map((b): RuleNode => ({ kind: 'const', value: b })),
  fc.constant<RuleNode>({ kind: 'unsupported', element: 'b.RegQword', attrs: {}, reason: 'unknown rule element' }),
);

const ruleArb: fc.Arbitrary<RuleNode> = fc.letrec<{ rule: RuleNode }>((tie) => ({
  rule: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.array(tie('rule'), { minLength: 1, maxLength: 3 }).map((children): RuleNode => ({ kind: 'and', children })),
    fc.array(tie('rule'), { minLength: 1, maxLength: 3 }).map((children): RuleNode => ({ kind: 'or', children })),
    tie('rule').map((child): RuleNode => ({ kind: 'not', child })),
  ),
})).rule;

const base = (n: number, over: Partial<UpdateRecord>): UpdateRecord => ({
  updateId: G(n), revisionNumber: 100, revisionId: 1000 + n, updateType: 'Software', isLeaf: true, isBundle: false,
  deploymentAction: 'Install', explicitlyDeployable: false, categories: [], prerequisites: [], bundledUpdates: [],
  bundledByRevisionIds: [], supersedes: [], supersededByRevisionIds: [], rules: {}, severity: '', cves: [], localized: [],
  ...over,
});

const optRule = fc.option(ruleArb, { nil: undefined, freq: 3 });

/** Sizes of a random catalog (defaults: small, so that a failing case shrinks to something readable). */
export interface WorldSize {
  readonly minLeaves?: number;
  readonly maxLeaves?: number;
  readonly maxBundles?: number;
  readonly maxSupersede?: number;
}

/** A random catalog in the shapes real catalogs have, ids 1..n in dependency order (no cycles). */
export const catalogArbOf = ({ minLeaves = 1, maxLeaves = 6, maxBundles = 3, maxSupersede = 4 }: WorldSize = {}): fc.Arbitrary<UpdateRecord[]> => fc.record({
  categories: fc.integer({ min: 1, max: 2 }),
  detectoids: fc.array(fc.record({ rule: ruleArb, prereqCat: fc.boolean() }), { minLength: 1, maxLength: 3 }),
  leaves: fc.array(fc.record({ installed: optRule, installable: optRule, superseded: fc.option(ruleArb, { nil: undefined, freq: 6 }), prereq: fc.nat(), atLeastOne: fc.boolean(), missingPrereq: fc.integer({ min: 0, max: 9 }) }), { minLength: minLeaves, maxLength: maxLeaves }),
  bundles: fc.array(fc.record({ take: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), group: fc.boolean(), missingChild: fc.integer({ min: 0, max: 9 }), prereq: fc.nat() }), { maxLength: maxBundles }),
  supersede: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: maxSupersede }),
}).map(({ categories, detectoids, leaves, bundles, supersede }) => {
  const recs: UpdateRecord[] = [];
  let n = 1;
  const cats: string[] = [];
  for (let i = 0; i < categories; i++) {
    cats.push(G(n));
    recs.push(base(n++, { updateType: 'Category', isLeaf: false, deploymentAction: 'Evaluate', rules: { IsInstalled: { kind: 'const', value: true } } }));
  }
  const dets: string[] = [];
  for (const d of detectoids) {
    dets.push(G(n));
    recs.push(base(n++, { updateType: 'Detectoid', isLeaf: false, deploymentAction: 'Evaluate', rules: { IsInstalled: d.rule }, prerequisites: d.prereqCat ? [{ kind: 'atLeastOne', isCategory: true, updateIds: [cats[0]!] }] : [] }));
  }
  const leafIds: string[] = [];
  const pick = <T>(xs: T[], k: number): T => xs[k % xs.length]!;
  for (const l of leaves) {
    const prereqs: Prerequisite[] = l.atLeastOne
      ? [{ kind: 'atLeastOne', isCategory: false, updateIds: [pick(dets, l.prereq), pick(dets, l.prereq + 1)] }]
      : [{ kind: 'update', updateId: pick(dets, l.prereq) }];
    if (l.missingPrereq === 0) prereqs.push({ kind: 'update', updateId: G(9999) }); // a prerequisite the catalog lacks
    leafIds.push(G(n));
    recs.push(base(n++, {
      prerequisites: prereqs,
      rules: { ...(l.installed ? { IsInstalled: l.installed } : {}), ...(l.installable ? { IsInstallable: l.installable } : {}), ...(l.superseded ? { IsSuperseded: l.superseded } : {}) },
    }));
  }
  const bundled = new Set<string>();
  for (const b of bundles) {
    const kids = [...new Set(b.take.map((k) => pick(leafIds, k)))];
    kids.forEach((k) => bundled.add(k));
    const children = kids.map((k) => ({ updateId: k, revisionNumber: 100 }));
    if (b.missingChild === 0) children.push({ updateId: G(8888), revisionNumber: 100 });
    recs.push(base(n++, {
      isBundle: true,
      prerequisites: [{ kind: 'atLeastOne', isCategory: true, updateIds: [pick(cats, b.prereq)] }],
      bundledUpdates: b.group ? [{ kind: 'atLeastOne', children }] : children.map((child) => ({ kind: 'update' as const, child })),
    }));
  }
  const out = recs.map((r) => (bundled.has(r.updateId) ? { ...r, deploymentAction: 'Bundle' as const } : r));
  // Supersedence only from a later software update to an earlier one: no cycles.
  const software = out.filter((r) => r.updateType === 'Software');
  for (const [a, b] of supersede) {
    const i = a % software.length;
    const j = b % software.length;
    if (j >= i) continue;
    const later = software[i]!;
    const idx = out.indexOf(later);
    out[idx] = { ...later, supersedes: [...later.supersedes, software[j]!.updateId] };
    software[i] = out[idx]!;
  }
  return out;
});

const fileState = fc.constantFrom<'missing' | 'absent' | 'noversion' | string>('missing', 'absent', 'noversion', ...VERSIONS);

export const inventoryArb: fc.Arbitrary<Inventory> = fc.record({
  os: fc.option(fc.record({ major: fc.constantFrom(6, 10), minor: fc.constantFrom(0, 1, 3), build: fc.constantFrom(7601, 9600, 17763, 19045), productType: fc.constantFrom(1, 3) }), { nil: undefined, freq: 6 }),
  arch: fc.option(fc.constantFrom(0, 9, 12), { nil: undefined, freq: 6 }),
  csidl: fc.boolean(),
  files: fc.array(fileState, { minLength: FILES.length, maxLength: FILES.length }),
  keys: fc.array(fc.constantFrom('missing', 'absent', 'present', 'novalues'), { minLength: KEYS.length, maxLength: KEYS.length }),
  parentSubkeys: fc.boolean(),
  level: fc.array(fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }), { minLength: KEYS.length, maxLength: KEYS.length }),
  name: fc.array(fc.option(fc.constantFrom('Contoso', 'contoso ltd', 'other'), { nil: undefined }), { minLength: KEYS.length, maxLength: KEYS.length }),
  msi: fc.option(fc.subarray(PRODUCTS), { nil: undefined }),
  cbs: fc.option(fc.uniqueArray(fc.tuple(fc.constantFrom(...CBS), fc.constantFrom('Installed', 'Superseded', 'Staged', 'InstallPending')), { maxLength: 2, selector: ([id]) => id }), { nil: undefined }),
}).map((r): Inventory => ({
  schema: 'patchscan-inventory/1',
  computer: { name: 'PROP' },
  collectedAt: '2026-11-24T00:00:00Z',
  ...(r.os ? { os: r.os } : {}),
  ...(r.arch !== undefined ? { processor: { architecture: r.arch } } : {}),
  ...(r.csidl ? { csidl: { '37': 'C:\\Windows\\System32' } } : {}),
  files: FILES.flatMap((f, i): InventoryFile[] => {
    const s = r.files[i]!;
    const path = `C:\\Windows\\System32\\${f}`;
    return s === 'missing' ? [] : s === 'absent' ? [{ path, exists: false }] : s === 'noversion' ? [{ path, exists: true }] : [{ path, exists: true, version: s }];
  }),
  registry: [
    // HKLM\SOFTWARE with a complete subkey list proves keys it does not list are absent.
    ...(r.parentSubkeys ? [{ key: 'HKEY_LOCAL_MACHINE\\SOFTWARE', exists: true, subkeys: KEYS.filter((k, i) => !k.includes('\\Sub') && r.keys[i] === 'present').map((k) => k.split('\\')[1]!) }] : []),
    ...KEYS.flatMap((k, i) => {
      const s = r.keys[i]!;
      const key = `HKEY_LOCAL_MACHINE\\${k}`;
      if (s === 'missing') return [];
      if (s === 'absent') return [{ key, exists: false }];
      if (s === 'novalues') return [{ key, exists: true }];
      const values = [
        ...(r.level[i] !== undefined ? [{ name: 'Level', type: 'REG_DWORD' as const, data: r.level[i]! }] : []),
        ...(r.name[i] !== undefined ? [{ name: 'Name', type: 'REG_SZ' as const, data: r.name[i]! }] : []),
      ];
      return [{ key, exists: true, values }];
    }),
  ],
  ...(r.msi ? { msi: { products: r.msi.map((productCode) => ({ productCode })) } } : {}),
  ...(r.cbs ? { cbs: { packages: r.cbs.map(([identity, state]) => ({ identity, state })) } } : {}),
}));

export const catalogArb = catalogArbOf();
