/**
 * Random worlds for differential testing: catalogs (categories, detectoids, leaf updates with random rule trees,
 * bundles, supersedence, missing references) and inventories (facts collected, absent, or missing), limited to the
 * rule types the reference evaluator knows. Used by the property test and by the engine ÷ reference benchmark.
 */
import fc from 'fast-check';
import type { Inventory, InventoryFile } from '../../engine/inventory/types.js';
import type { LeafRule, Prerequisite, RuleMetadata, RuleNode, UpdateRecord } from '../../engine/model.js';
import { EVALUATORS } from '../../engine/eval/program.js';
import { RULES, type KnownRuleType } from '../../engine/rules/registry.js';
import { updateRecord } from '../helpers/update-record.js';

const G = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const FILES = ['kernel32.dll', 'drivers\\tcpip.sys', 'mso.dll'];
const VERSIONS = ['1.0.0.0', '2.0.0.0', '2.5.0.0', '3.0.0.0'];
const KEYS = ['SOFTWARE\\Contoso', 'SOFTWARE\\Contoso\\Sub', 'SOFTWARE\\Fabrikam'];
const VALUES = ['Level', 'Name'];
const PRODUCTS = ['{11111111-2222-3333-4444-555555555555}', '{66666666-7777-8888-9999-000000000000}'];
const CBS = ['Package_for_KB1~31bf3856ad364e35~amd64~~10.0.1.0', 'Package_for_KB2~31bf3856ad364e35~amd64~~10.0.2.0'];
const CMP = ['LessThan', 'LessThanOrEqualTo', 'EqualTo', 'GreaterThanOrEqualTo', 'GreaterThan'] as const;
const SCMP = ['EqualTo', 'BeginsWith', 'Contains', 'EndsWith'] as const;

const leaf = (type: KnownRuleType, attrs: Record<string, string>, extra: Partial<LeafRule> = {}): RuleNode => ({
  kind: 'rule',
  type,
  family: RULES[type].family,
  attrs,
  ...extra,
});

/** The rule types of the first property tests (and of the engine ÷ reference benchmark, whose figures use them). */
const basicLeafArb: fc.Arbitrary<RuleNode> = fc.oneof(
  fc
    .record({
      cmp: fc.constantFrom(...CMP),
      major: fc.constantFrom('6', '10'),
      minor: fc.constantFrom('0', '1', '3'),
      build: fc.option(fc.constantFrom('7601', '9600', '17763', '19045'), { nil: undefined }),
      pt: fc.option(fc.constantFrom('1', '3'), { nil: undefined }),
    })
    .map(({ cmp, major, minor, build, pt }) =>
      leaf('WindowsVersion', {
        Comparison: cmp,
        MajorVersion: major,
        MinorVersion: minor,
        ...(build ? { BuildNumber: build } : {}),
        ...(pt ? { ProductType: pt } : {}),
      }),
    ),
  fc.constantFrom('0', '9', '12').map((a) => leaf('Processor', { Architecture: a })),
  fc.constantFrom(...FILES).map((p) => leaf('FileExists', { Path: p, Csidl: '37' })),
  fc
    .record({ p: fc.constantFrom(...FILES), c: fc.constantFrom(...CMP), v: fc.constantFrom(...VERSIONS) })
    .map(({ p, c, v }) => leaf('FileVersion', { Path: `\\${p}`, Csidl: '37', Comparison: c, Version: v })),
  fc.constantFrom(...KEYS).map((k) => leaf('RegKeyExists', { Key: 'HKEY_LOCAL_MACHINE', Subkey: k })),
  fc
    .record({ k: fc.constantFrom(...KEYS), v: fc.constantFrom(...VALUES) })
    .map(({ k, v }) => leaf('RegValueExists', { Key: 'HKEY_LOCAL_MACHINE', Subkey: k, Value: v })),
  fc
    .record({ k: fc.constantFrom(...KEYS), c: fc.constantFrom(...CMP), d: fc.integer({ min: 0, max: 4 }) })
    .map(({ k, c, d }) => leaf('RegDword', { Key: 'HKEY_LOCAL_MACHINE', Subkey: k, Value: 'Level', Comparison: c, Data: String(d) })),
  fc
    .record({ k: fc.constantFrom(...KEYS), c: fc.constantFrom(...SCMP), d: fc.constantFrom('contoso', 'CON', 'so', 'x') })
    .map(({ k, c, d }) => leaf('RegSz', { Key: 'HKEY_LOCAL_MACHINE', Subkey: k, Value: 'Name', Comparison: c, Data: d })),
  fc.constantFrom(...PRODUCTS).map((p) => leaf('MsiProductInstalled', { ProductCode: p })),
  fc.constantFrom(...CBS).map((id) => leaf('CbsPackageInstalledByIdentity', { PackageIdentity: id })),
  fc.boolean().map((b): RuleNode => ({ kind: 'const', value: b })),
  fc.constant<RuleNode>({ kind: 'unsupported', element: 'b.RegQword', attrs: {}, reason: 'unknown rule element' }),
);

const treeOf = (leafArb: fc.Arbitrary<RuleNode>): fc.Arbitrary<RuleNode> =>
  fc.letrec<{ rule: RuleNode }>((tie) => ({
    rule: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leafArb,
      fc.array(tie('rule'), { minLength: 1, maxLength: 3 }).map((children): RuleNode => ({ kind: 'and', children })),
      fc.array(tie('rule'), { minLength: 1, maxLength: 3 }).map((children): RuleNode => ({ kind: 'or', children })),
      tie('rule').map((child): RuleNode => ({ kind: 'not', child })),
    ),
  })).rule;

const base = (n: number, over: Partial<UpdateRecord>): UpdateRecord =>
  updateRecord({ updateId: G(n), revisionNumber: 100, revisionId: 1000 + n, explicitlyDeployable: false, ...over });

/* ---- Every other rule type (WorldSize `rules: 'all'`, inventories from richInventoryArb) ---- */

const HKLM = 'HKEY_LOCAL_MACHINE';
const LIC = 'CE163B38-1AEC-47AF-854D-FC90ABD6951C';
const QUERIES = ["select * from Win32_BaseBoard where Product LIKE '%840a%'", 'select * from Win32_BIOS'];
const REL = 'Client.OS.RS2.AMD64';
const REL_VERSIONS = ['10.0.22621.100', '10.0.22621.5909', '10.0.22631.1'];
const DATES = ['2023-01-01T00:00:00Z', '2024-01-01T00:00:00', '2024-06-01T12:00:00+02:00'];
const FEATURES = ['F1', 'F2'];
const COMPONENTS = ['{11111111-0000-0000-0000-000000000001}', '{11111111-0000-0000-0000-000000000002}'];
const PATCH = '{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}';
const MSI_VERSIONS = ['16.0.1', '16.0.5000.0'];
/** CBS packages a machine may list (long and short identities) and rules may name. */
const CBS_ALL = [
  'Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.1936.1.1',
  'Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.2003.1.1',
  'Package_for_RollupFix~31bf3856ad364e35~arm64~~22000.1936.1.9',
  'Package_for_ServicingStack_1935~31bf3856ad364e35~amd64~~19041.1935.1.2',
  'InternetExplorer-Package~31bf3856ad364e35~amd64~~11.2.9600.16428',
  'InternetExplorer-Package~11.2.9600.16428',
  'InternetExplorer-Package~11.2.9600.17000',
];
const CBS_STATES = ['Installed', 'Superseded', 'Staged', 'InstallPending', 'Absent'];
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
/** `o` without its undefined properties (attributes not given, inventory fields not collected). */
function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}

export const metadataArb: fc.Arbitrary<RuleMetadata> = fc.oneof(
  fc
    .constantFrom(...CBS_ALL.filter((id) => id.split('~').length === 5), 'Package_for_RollupFix~31bf3856ad364e35~amd64~~17763.1936.1.1')
    .map((identity): RuleMetadata => ({ element: 'CbsPackageApplicabilityMetadata', attrs: { identity } })),
  fc.constant<RuleMetadata>({ element: 'MsiPatchMetadata', attrs: { PatchCode: PATCH } }),
  fc.constantFrom(...PRODUCTS).map((ProductCode): RuleMetadata => ({ element: 'MsiApplicationMetadata', attrs: { ProductCode } })),
);

const regAt = (subkey: string, extra: Record<string, string | undefined> = {}): Record<string, string> =>
  defined({ Key: HKLM, Subkey: subkey, ...extra });
const loopChild: fc.Arbitrary<RuleNode> = fc.oneof(
  fc
    .record({ c: fc.constantFrom(...CMP), d: fc.integer({ min: 0, max: 4 }) })
    .map(({ c, d }) => leaf('RegDword', { Key: 'HKEY_LOOP_TARGET', Subkey: '', Value: 'Level', Comparison: c, Data: String(d) })),
  fc.constant(leaf('RegValueExists', { Key: 'HKEY_LOOP_TARGET', Subkey: '', Value: 'Name' })),
  fc.constant(leaf('RegKeyExists', { Key: 'HKEY_LOOP_TARGET', Subkey: 'Deeper' })),
);
/** FileExists' optional attributes, each mostly left out (all must match for True). */
const rarely = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 4 });
const fileAttrs = fc.record({
  Version: rarely(fc.constantFrom(...VERSIONS)),
  Size: rarely(fc.constantFrom('100', '200')),
  Created: rarely(fc.constantFrom(...DATES)),
  Modified: rarely(fc.constantFrom(...DATES)),
  Language: rarely(fc.constant('1033')),
});
const UNDER_REG = { Key: HKLM, Subkey: 'SOFTWARE\\Northwind', Value: 'Dir', Path: 'b.exe' };
const msiFilters = fc.record({
  VersionMin: opt(fc.constantFrom(...MSI_VERSIONS)),
  VersionMax: opt(fc.constantFrom(...MSI_VERSIONS)),
  ExcludeVersionMin: opt(fc.constant('true')),
  ExcludeVersionMax: opt(fc.constant('true')),
  Language: opt(fc.constantFrom('1033', '1031')),
});
const items = (tag: 'Feature' | 'Component', names: readonly string[]): fc.Arbitrary<NonNullable<LeafRule['items']>> =>
  fc
    .tuple(fc.subarray(PRODUCTS, { minLength: 1 }), fc.subarray([...names], { minLength: 1 }))
    .map(([ps, ns]) => [
      ...ps.map((p) => ({ tag: 'Product', attrs: { ProductCode: p } })),
      ...ns.map((n) => ({ tag, attrs: { [tag === 'Feature' ? 'Name' : 'ComponentCode']: n } })),
    ]);
/** Every registered rule type the engine does not evaluate (always Unknown), with its required attributes. */
const NOT_EVALUATED_LEAVES: RuleNode[] = (Object.keys(RULES) as KnownRuleType[])
  .filter((type) => !Object.hasOwn(EVALUATORS, type))
  .map((type) => leaf(type, Object.fromEntries(RULES[type].required.map((a) => [a, a === 'Key' ? HKLM : 'x']))));

const allLeafArb: fc.Arbitrary<RuleNode> = fc.oneof(
  // OS and machine
  fc
    .record({
      type: fc.constantFrom<KnownRuleType>('WindowsVersion', 'PlatformVersion'),
      Comparison: opt(fc.constantFrom(...CMP)),
      MajorVersion: opt(fc.constantFrom('6', '10')),
      MinorVersion: opt(fc.constantFrom('0', '1')),
      ServicePackMajor: opt(fc.constantFrom('0', '1')),
      BuildNumber: opt(fc.constantFrom('7601', '19045', '22000')),
      ProductType: opt(fc.constantFrom('1', '3')),
      SuiteMask: opt(fc.constantFrom('256', '2', '258')),
      AllSuitesMustBePresent: opt(fc.constantFrom('true', 'false')),
    })
    .map(({ type, ...a }) => leaf(type, defined(a))),
  fc.constantFrom('1', '2').map((id) => leaf('Platform', { PlatformID: id })),
  fc.constantFrom('de', 'en-US', 'de-AT', 'EN').map((l) => leaf('WindowsLanguage', { Language: l })),
  fc.constant(leaf('MuiInstalled', {})),
  fc.constantFrom('fr', 'de-DE').map((l) => leaf('MuiLanguageInstalled', { Language: l })),
  fc
    .record({ c: fc.constantFrom(...CMP), v: fc.constantFrom('0', '1') })
    .map(({ c, v }) => leaf('SystemMetric', { Comparison: c, Index: '87', Value: v })),
  fc
    .record({ a: fc.constantFrom('0', '9', '12'), l: opt(fc.constantFrom('6', '15')) })
    .map(({ a, l }) => leaf('Processor', defined({ Architecture: a, Level: l }))),
  fc
    .record({ c: fc.constantFrom(...CMP), n: fc.constantFrom('2', '4') })
    .map(({ c, n }) => leaf('NumberOfProcessors', { Comparison: c, Number: n })),
  fc.constant(leaf('ClusteredOS', {})),
  fc
    .record({ v: fc.constantFrom(LIC, LIC.toLowerCase()), c: fc.constantFrom(...CMP), d: fc.constantFrom('0', '1') })
    .map(({ v, c, d }) => leaf('LicenseDword', { Value: v, Comparison: c, Data: d })),
  fc
    .record({ ns: opt(fc.constantFrom('root\\cimv2', 'ROOT\\CIMV2', 'root\\wmi')), q: fc.constantFrom(...QUERIES) })
    .map(({ ns, q }) => leaf('WmiQuery', defined({ Namespace: ns, WqlQuery: q }))),
  fc.constantFrom(...NOT_EVALUATED_LEAVES),
  // Files
  fc.record({ p: fc.constantFrom(...FILES), a: fileAttrs }).map(({ p, a }) => leaf('FileExists', defined({ Path: p, Csidl: '37', ...a }))),
  fc
    .record({ p: fc.constantFrom(...FILES), c: fc.constantFrom(...CMP), s: fc.constantFrom('100', '200') })
    .map(({ p, c, s: size }) => leaf('FileSize', { Path: p, Csidl: '37', Comparison: c, Size: size })),
  fc
    .record({
      t: fc.constantFrom<KnownRuleType>('FileCreated', 'FileModified'),
      p: fc.constantFrom(...FILES),
      c: fc.constantFrom(...CMP),
      d: fc.constantFrom(...DATES),
    })
    .map(({ t, p, c, d }) => leaf(t, { Path: p, Csidl: '37', Comparison: c, [t === 'FileCreated' ? 'Created' : 'Modified']: d })),
  fileAttrs.map((a) => leaf('FileExistsPrependRegSz', defined({ ...UNDER_REG, ...a }))),
  fc
    .record({ c: fc.constantFrom(...CMP), v: fc.constantFrom(...VERSIONS) })
    .map(({ c, v }) => leaf('FileVersionPrependRegSz', { ...UNDER_REG, Comparison: c, Version: v })),
  fc
    .record({ c: fc.constantFrom(...CMP), s: fc.constantFrom('100', '200') })
    .map(({ c, s: size }) => leaf('FileSizePrependRegSz', { ...UNDER_REG, Comparison: c, Size: size })),
  fc
    .record({
      t: fc.constantFrom<KnownRuleType>('FileCreatedPrependRegSz', 'FileModifiedPrependRegSz'),
      c: fc.constantFrom(...CMP),
      d: fc.constantFrom(...DATES),
    })
    .map(({ t, c, d }) => leaf(t, { ...UNDER_REG, Comparison: c, [t === 'FileCreatedPrependRegSz' ? 'Created' : 'Modified']: d })),
  // Registry
  fc
    .record({ k: fc.constantFrom(...KEYS), r: opt(fc.constant('true')) })
    .map(({ k, r }) => leaf('RegKeyExists', regAt(k, { RegType32: r }))),
  fc
    .record({
      k: fc.constantFrom(...KEYS),
      v: fc.constantFrom(...VALUES, 'Dir'),
      t: opt(fc.constantFrom('REG_DWORD', 'REG_SZ')),
      r: opt(fc.constant('true')),
    })
    .map(({ k, v, t, r }) => leaf('RegValueExists', regAt(k, { Value: v, Type: t, RegType32: r }))),
  fc
    .record({ k: fc.constantFrom(...KEYS), c: fc.constantFrom(...CMP), d: fc.integer({ min: 0, max: 4 }), r: opt(fc.constant('true')) })
    .map(({ k, c, d, r }) => leaf('RegDword', regAt(k, { Value: 'Level', Comparison: c, Data: String(d), RegType32: r }))),
  fc
    .record({
      k: fc.constantFrom(...KEYS, 'SOFTWARE\\Tailspin'),
      c: fc.constantFrom(...SCMP),
      d: fc.constantFrom('contoso', '%SystemRoot%', '2.5'),
    })
    .map(({ k, c, d }) => leaf('RegExpandSz', regAt(k, { Value: k.endsWith('Tailspin') ? 'Ver' : 'Name', Comparison: c, Data: d }))),
  fc
    .record({ c: fc.constantFrom(...CMP), d: fc.constantFrom(...VERSIONS) })
    .map(({ c, d }) => leaf('RegSzToVersion', regAt('SOFTWARE\\Tailspin', { Value: 'Ver', Comparison: c, Data: d }))),
  fc
    .record({ t: fc.constantFrom('Any', 'All', 'None'), child: loopChild, r: opt(fc.constant('true')) })
    .map(({ t, child, r }) => leaf('RegKeyLoop', regAt('SOFTWARE\\Contoso', { TrueIf: t, RegType32: r }), { child })),
  loopChild, // HKEY_LOOP_TARGET outside a loop
  // MSI
  fc
    .record({ p: fc.constantFrom(...PRODUCTS), f: msiFilters })
    .map(({ p, f }) => leaf('MsiProductInstalled', defined({ ProductCode: p, ...f }))),
  fc
    .record({ all: opt(fc.constant('true')), allP: opt(fc.constant('true')), it: items('Feature', FEATURES) })
    .map(({ all, allP, it }) =>
      leaf('MsiFeatureInstalledForProduct', defined({ AllFeaturesRequired: all, AllProductsRequired: allP }), { items: it }),
    ),
  fc
    .record({ all: opt(fc.constant('true')), allP: opt(fc.constant('true')), it: items('Component', COMPONENTS) })
    .map(({ all, allP, it }) =>
      leaf('MsiComponentInstalledForProduct', defined({ AllComponentsRequired: all, AllProductsRequired: allP }), { items: it }),
    ),
  fc
    .record({ p: fc.constantFrom(...PRODUCTS), f: msiFilters })
    .map(({ p, f }) => leaf('MsiPatchInstalledForProduct', defined({ PatchCode: PATCH, ProductCode: p, ...f }))),
  fc.constantFrom(leaf('MsiPatchInstalled', {}), leaf('MsiApplicationInstalled', {})),
  // CBS
  fc
    .constantFrom(...CBS_ALL, 'Package_for_RollupFix~~amd64~~19041.1936.1.1')
    .map((id) => leaf('CbsPackageInstalledByIdentity', { PackageIdentity: id })),
  fc.constantFrom(leaf('CbsPackageInstalled', {}), leaf('CbsPackageInstallable', {})),
  // Windows 10+ rules
  opt(fc.constantFrom(...REL_VERSIONS)).map((v) => leaf('ProductReleaseInstalled', defined({ Name: REL, Version: v }))),
  fc
    .record({ c: opt(fc.constantFrom(...CMP)), v: fc.constantFrom(...REL_VERSIONS) })
    .map(({ c, v }) => leaf('ProductReleaseVersion', defined({ Name: REL, Comparison: c, Version: v }))),
  fc
    .record({ c: fc.constantFrom(...SCMP), v: fc.constantFrom('4', '119', '1') })
    .map(({ c, v }) => leaf('DeviceAttribute', { Name: 'OSSkuId', Type: 'String', Comparison: c, Value: v })),
  fc
    .record({ c: fc.constantFrom(...CMP), v: fc.constantFrom('10.0.22621.1', '10.0.22621.2861') })
    .map(({ c, v }) => leaf('DeviceAttribute', { Name: 'OSVersion', Type: 'Version', Comparison: c, Value: v })),
);

/** Sizes of a random catalog (defaults: small, so that a failing case shrinks to something readable). */
export interface WorldSize {
  readonly minLeaves?: number;
  readonly maxLeaves?: number;
  readonly maxBundles?: number;
  readonly maxSupersede?: number;
  /** `basic` (default): the rule types of the benchmark; `all`: every rule type the registry knows, and metadata. */
  readonly rules?: 'basic' | 'all';
}

/** A random catalog in the shapes real catalogs have, ids 1..n in dependency order (no cycles). */
export const catalogArbOf = ({
  minLeaves = 1,
  maxLeaves = 6,
  maxBundles = 3,
  maxSupersede = 4,
  rules = 'basic',
}: WorldSize = {}): fc.Arbitrary<UpdateRecord[]> => {
  const ruleArb = treeOf(rules === 'all' ? fc.oneof(basicLeafArb, allLeafArb) : basicLeafArb);
  const optRule = fc.option(ruleArb, { nil: undefined, freq: 3 });
  const metaArb = rules === 'all' ? fc.option(metadataArb, { nil: undefined, freq: 4 }) : fc.constant(undefined);
  return fc
    .record({
      categories: fc.integer({ min: 1, max: 2 }),
      detectoids: fc.array(fc.record({ rule: ruleArb, prereqCat: fc.boolean() }), { minLength: 1, maxLength: 3 }),
      leaves: fc.array(
        fc.record({
          installed: optRule,
          installable: optRule,
          superseded: fc.option(ruleArb, { nil: undefined, freq: 6 }),
          prereq: fc.nat(),
          atLeastOne: fc.boolean(),
          missingPrereq: fc.integer({ min: 0, max: 9 }),
          meta: metaArb,
        }),
        { minLength: minLeaves, maxLength: maxLeaves },
      ),
      bundles: fc.array(
        fc.record({
          take: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
          group: fc.boolean(),
          missingChild: fc.integer({ min: 0, max: 9 }),
          prereq: fc.nat(),
        }),
        { maxLength: maxBundles },
      ),
      supersede: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: maxSupersede }),
    })
    .map(({ categories, detectoids, leaves, bundles, supersede }) => {
      const recs: UpdateRecord[] = [];
      let n = 1;
      const cats: string[] = [];
      for (let i = 0; i < categories; i++) {
        cats.push(G(n));
        recs.push(
          base(n++, {
            updateType: 'Category',
            isLeaf: false,
            deploymentAction: 'Evaluate',
            rules: { IsInstalled: { kind: 'const', value: true } },
          }),
        );
      }
      const dets: string[] = [];
      for (const d of detectoids) {
        dets.push(G(n));
        recs.push(
          base(n++, {
            updateType: 'Detectoid',
            isLeaf: false,
            deploymentAction: 'Evaluate',
            rules: { IsInstalled: d.rule },
            prerequisites: d.prereqCat ? [{ kind: 'atLeastOne', isCategory: true, updateIds: [cats[0]!] }] : [],
          }),
        );
      }
      const leafIds: string[] = [];
      const pick = <T>(xs: T[], k: number): T => xs[k % xs.length]!;
      for (const l of leaves) {
        const prereqs: Prerequisite[] = l.atLeastOne
          ? [{ kind: 'atLeastOne', isCategory: false, updateIds: [pick(dets, l.prereq), pick(dets, l.prereq + 1)] }]
          : [{ kind: 'update', updateId: pick(dets, l.prereq) }];
        if (l.missingPrereq === 0) prereqs.push({ kind: 'update', updateId: G(9999) }); // a prerequisite the catalog lacks
        leafIds.push(G(n));
        recs.push(
          base(n++, {
            prerequisites: prereqs,
            rules: {
              ...(l.installed ? { IsInstalled: l.installed } : {}),
              ...(l.installable ? { IsInstallable: l.installable } : {}),
              ...(l.superseded ? { IsSuperseded: l.superseded } : {}),
            },
            ...(l.meta ? { metadata: l.meta } : {}),
          }),
        );
      }
      const bundled = new Set<string>();
      for (const b of bundles) {
        const kids = [...new Set(b.take.map((k) => pick(leafIds, k)))];
        kids.forEach((k) => bundled.add(k));
        const children = kids.map((k) => ({ updateId: k, revisionNumber: 100 }));
        if (b.missingChild === 0) children.push({ updateId: G(8888), revisionNumber: 100 });
        recs.push(
          base(n++, {
            isBundle: true,
            prerequisites: [{ kind: 'atLeastOne', isCategory: true, updateIds: [pick(cats, b.prereq)] }],
            bundledUpdates: b.group ? [{ kind: 'atLeastOne', children }] : children.map((child) => ({ kind: 'update' as const, child })),
          }),
        );
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
};

const fileState = fc.constantFrom<'missing' | 'absent' | 'noversion' | string>('missing', 'absent', 'noversion', ...VERSIONS);

export const inventoryArb: fc.Arbitrary<Inventory> = fc
  .record({
    os: fc.option(
      fc.record({
        major: fc.constantFrom(6, 10),
        minor: fc.constantFrom(0, 1, 3),
        build: fc.constantFrom(7601, 9600, 17763, 19045),
        productType: fc.constantFrom(1, 3),
      }),
      { nil: undefined, freq: 6 },
    ),
    arch: fc.option(fc.constantFrom(0, 9, 12), { nil: undefined, freq: 6 }),
    csidl: fc.boolean(),
    files: fc.array(fileState, { minLength: FILES.length, maxLength: FILES.length }),
    keys: fc.array(fc.constantFrom('missing', 'absent', 'present', 'novalues'), { minLength: KEYS.length, maxLength: KEYS.length }),
    parentSubkeys: fc.boolean(),
    level: fc.array(fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }), { minLength: KEYS.length, maxLength: KEYS.length }),
    name: fc.array(fc.option(fc.constantFrom('Contoso', 'contoso ltd', 'other'), { nil: undefined }), {
      minLength: KEYS.length,
      maxLength: KEYS.length,
    }),
    msi: fc.option(fc.subarray(PRODUCTS), { nil: undefined }),
    cbs: fc.option(
      fc.uniqueArray(fc.tuple(fc.constantFrom(...CBS), fc.constantFrom('Installed', 'Superseded', 'Staged', 'InstallPending')), {
        maxLength: 2,
        selector: ([id]) => id,
      }),
      { nil: undefined },
    ),
  })
  .map((r): Inventory => ({
    schema: 'patchscan-inventory/1',
    computer: { name: 'PROP' },
    collectedAt: '2026-11-24T00:00:00Z',
    ...(r.os ? { os: r.os } : {}),
    ...(r.arch !== undefined ? { processor: { architecture: r.arch } } : {}),
    ...(r.csidl ? { csidl: { '37': 'C:\\Windows\\System32' } } : {}),
    files: FILES.flatMap((f, i): InventoryFile[] => {
      const s = r.files[i]!;
      const path = `C:\\Windows\\System32\\${f}`;
      return s === 'missing'
        ? []
        : s === 'absent'
          ? [{ path, exists: false }]
          : s === 'noversion'
            ? [{ path, exists: true }]
            : [{ path, exists: true, version: s }];
    }),
    registry: [
      // HKLM\SOFTWARE with a complete subkey list proves keys it does not list are absent.
      ...(r.parentSubkeys
        ? [
            {
              key: 'HKEY_LOCAL_MACHINE\\SOFTWARE',
              exists: true,
              subkeys: KEYS.filter((k, i) => !k.includes('\\Sub') && r.keys[i] === 'present').map((k) => k.split('\\')[1]!),
            },
          ]
        : []),
      ...KEYS.flatMap((k, i) => {
        const s = r.keys[i]!;
        const key = `HKEY_LOCAL_MACHINE\\${k}`;
        if (s === 'missing') return [];
        if (s === 'absent') return [{ key, exists: false }];
        if (s === 'novalues') return [{ key, exists: true }];
        const values = [
          ...(r.level[i] !== undefined ? [{ name: 'Level', type: 'REG_DWORD' as const, data: r.level[i] }] : []),
          ...(r.name[i] !== undefined ? [{ name: 'Name', type: 'REG_SZ' as const, data: r.name[i] }] : []),
        ];
        return [{ key, exists: true, values }];
      }),
    ],
    ...(r.msi ? { msi: { products: r.msi.map((productCode) => ({ productCode })) } } : {}),
    ...(r.cbs ? { cbs: { packages: r.cbs.map(([identity, state]) => ({ identity, state })) } } : {}),
  }));

export const catalogArb = catalogArbOf();

/**
 * Inventories for every rule type: the basic ones with the rest of each section filled in at random — UBR, service
 * pack, suite mask and languages, processor details, file details, a registry-named folder, loop subkeys and a 32-bit
 * view, MSI details, CBS packages (short identities too) with DISM answers, and the Windows 10+ sections.
 */
export const richInventoryArb: fc.Arbitrary<Inventory> = fc
  .record({
    base: inventoryArb,
    build22000: fc.boolean(),
    os: fc.record({
      ubr: opt(fc.constantFrom(1900, 1936, 2003)),
      spMajor: opt(fc.constantFrom(0, 1)),
      suiteMask: opt(fc.constantFrom(256, 2)),
      installLanguage: opt(fc.constantFrom('de-DE', 'en-US')),
      muiInstalled: opt(fc.boolean()),
      uiLanguages: opt(fc.constantFrom(['de-DE'], ['de-DE', 'fr-FR'])),
    }),
    processor: fc.record({ level: opt(fc.constantFrom(6, 15)), count: opt(fc.constantFrom(2, 8)) }),
    fileDetails: fc.array(
      fc.record({
        size: opt(fc.constantFrom(100, 200)),
        created: opt(fc.constantFrom(...DATES)),
        modified: opt(fc.constantFrom(...DATES)),
        language: opt(fc.constant(1033)),
      }),
      { minLength: FILES.length, maxLength: FILES.length },
    ),
    appFile: fc.constantFrom('missing', 'absent', 'present', 'present'),
    appVersion: opt(fc.constantFrom(...VERSIONS)),
    appDir: fc.constantFrom<'missing' | 'novalues' | 'absent' | 'sz' | 'dword'>('missing', 'novalues', 'absent', 'sz', 'sz', 'dword'),
    loopSubkeys: opt(fc.constantFrom(['Sub'], ['Sub', 'Gone'], [])),
    view32: opt(fc.record({ level: fc.integer({ min: 0, max: 4 }), subkeys: fc.constantFrom(['Sub'], []) })),
    tailspin: opt(
      fc.record({
        type: fc.constantFrom<'REG_SZ' | 'REG_EXPAND_SZ'>('REG_SZ', 'REG_EXPAND_SZ'),
        data: fc.constantFrom('2.5.0.0', '3.0', 'n/a', '%SystemRoot%\\x'),
      }),
    ),
    systemMetrics: opt(fc.dictionary(fc.constantFrom('87', '0'), fc.option(fc.constantFrom(0, 1), { nil: null }))),
    licensing: opt(fc.dictionary(fc.constantFrom(LIC, LIC.toLowerCase()), fc.option(fc.constantFrom(0, 1), { nil: null }), { maxKeys: 1 })),
    cluster: opt(fc.boolean()),
    wmi: opt(
      fc.uniqueArray(
        fc.record({
          namespace: fc.constantFrom('root\\cimv2', 'Root\\CIMV2'),
          query: fc.constantFrom(...QUERIES),
          count: fc.constantFrom(0, 1, 2),
        }),
        { maxLength: 2, selector: (w) => w.query },
      ),
    ),
    productReleases: opt(
      fc.array(
        fc.constantFrom(...REL_VERSIONS).map((version) => ({ name: REL, version })),
        { maxLength: 1 },
      ),
    ),
    deviceAttributes: opt(
      fc.record({
        OSSkuId: opt(fc.option(fc.constantFrom('4', '119'), { nil: null })),
        OSVersion: opt(fc.constantFrom('10.0.22621.2861', 'n/a')),
      }),
    ),
    msi: fc.array(
      fc.record({
        version: opt(fc.constantFrom(...MSI_VERSIONS)),
        language: opt(fc.constantFrom(1033, 1031)),
        features: opt(fc.subarray(FEATURES)),
        components: opt(fc.subarray(COMPONENTS)),
        patches: opt(fc.subarray([PATCH])),
      }),
      { minLength: PRODUCTS.length, maxLength: PRODUCTS.length },
    ),
    cbs: opt(
      fc.record({
        packages: fc.uniqueArray(fc.tuple(fc.constantFrom(...CBS_ALL), fc.constantFrom(...CBS_STATES)), {
          maxLength: 3,
          selector: ([id]) => id.toLowerCase(),
        }),
        applicable: opt(fc.dictionary(fc.constantFrom(...CBS_ALL.slice(0, 4)), fc.boolean(), { maxKeys: 2 })),
      }),
    ),
  })
  .map((r): Inventory => {
    const b = r.base;
    const os = b.os && { ...b.os, ...(r.build22000 ? { build: 22000 } : {}), ...defined(r.os) };
    const files = (b.files ?? []).map((f, i) => (f.exists ? { ...f, ...defined(r.fileDetails[i]!) } : f));
    if (r.appFile !== 'missing')
      files.push({
        path: 'D:\\App\\b.exe',
        exists: r.appFile === 'present',
        ...(r.appFile === 'present' ? defined({ ...r.fileDetails[0]!, version: r.appVersion }) : {}),
      });
    const registry = (b.registry ?? []).map((k) => {
      if (!k.exists || !k.values) return k;
      return /\\Contoso$/i.test(k.key) && r.loopSubkeys ? { ...k, subkeys: r.loopSubkeys } : k;
    });
    // The folder of …PrependRegSz rules' b.exe: HKLM\SOFTWARE\Northwind\Dir.
    const northwind = `${HKLM}\\SOFTWARE\\Northwind`;
    if (r.appDir === 'novalues') registry.push({ key: northwind, exists: true });
    if (r.appDir === 'absent') registry.push({ key: northwind, exists: true, values: [] });
    if (r.appDir === 'sz') registry.push({ key: northwind, exists: true, values: [{ name: 'Dir', type: 'REG_SZ', data: 'D:\\App\\' }] });
    if (r.appDir === 'dword') registry.push({ key: northwind, exists: true, values: [{ name: 'Dir', type: 'REG_DWORD', data: 5 }] });
    // A 32-bit view of its own only on 64-bit machines (x86 and ARM have one view; a collector lists it as native).
    const oneView = b.processor?.architecture === 0 || b.processor?.architecture === 5;
    if (r.view32 && !oneView)
      registry.push({
        key: `${HKLM}\\SOFTWARE\\Contoso`,
        view: '32',
        exists: true,
        values: [{ name: 'Level', type: 'REG_DWORD', data: r.view32.level }],
        subkeys: r.view32.subkeys,
      });
    if (r.view32?.subkeys.length && !oneView)
      registry.push({
        key: `${HKLM}\\SOFTWARE\\Contoso\\Sub`,
        view: '32',
        exists: true,
        values: [{ name: 'Level', type: 'REG_DWORD', data: r.view32.level }],
      });
    if (r.tailspin)
      registry.push({
        key: `${HKLM}\\SOFTWARE\\Tailspin`,
        exists: true,
        values: [{ name: 'Ver', type: r.tailspin.type, data: r.tailspin.data }],
      });
    const { os: _os, processor: _p, files: _f, registry: _r, msi: _m, cbs: _c, ...rest } = b;
    return {
      ...rest,
      ...(os ? { os } : {}),
      ...(b.processor ? { processor: { ...b.processor, ...defined(r.processor) } } : {}),
      files,
      registry,
      ...(b.msi ? { msi: { products: b.msi.products.map((p) => ({ ...p, ...defined(r.msi[PRODUCTS.indexOf(p.productCode)]!) })) } } : {}),
      ...(r.cbs
        ? {
            cbs: {
              packages: r.cbs.packages.map(([identity, state]) => ({ identity, state })),
              ...(r.cbs.applicable ? { applicable: r.cbs.applicable } : {}),
            },
          }
        : {}),
      ...(r.systemMetrics ? { systemMetrics: r.systemMetrics } : {}),
      ...(r.licensing ? { licensing: r.licensing } : {}),
      ...(r.cluster !== undefined ? { cluster: { clustered: r.cluster } } : {}),
      ...(r.wmi ? { wmi: r.wmi } : {}),
      ...(r.productReleases ? { productReleases: r.productReleases } : {}),
      ...(r.deviceAttributes ? { deviceAttributes: defined(r.deviceAttributes) } : {}),
    };
  });

/** Catalogs over every rule type the registry knows (with update metadata for the CBS and MSI metadata rules). */
export const allRulesCatalogArb = catalogArbOf({ rules: 'all' });

/**
 * {@link catalogArbOf}, then one prerequisite added to several software updates at once (so updates share a
 * prerequisite class), naming any update of the catalog, later ones and those updates themselves included: cycles
 * appear.
 */
export const cyclicCatalogArb = fc
  .tuple(
    catalogArbOf({ maxLeaves: 8, maxBundles: 4 }),
    fc.array(fc.tuple(fc.nat(), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.boolean()), { maxLength: 4 }),
  )
  .map(([records, extra]) => {
    const out = [...records];
    const software = out.map((r, k) => (r.updateType === 'Software' ? k : -1)).filter((k) => k >= 0);
    for (const [b, picks, alone] of extra) {
      const target = out[b % out.length]!.updateId;
      for (const k of new Set(picks.map((a) => software[a % software.length]!))) {
        const r = out[k]!;
        out[k] = {
          ...r,
          prerequisites: [
            ...r.prerequisites,
            alone ? { kind: 'update', updateId: target } : { kind: 'atLeastOne', isCategory: false, updateIds: [target, G(7777)] },
          ],
        };
      }
    }
    return out;
  });
