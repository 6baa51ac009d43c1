/**
 * Leaf rules evaluated as numbers instead of closures (engine/eval/msi-patch-table.ts, file-version-table.ts,
 * reg-value-table.ts, and CBS packages installed read off their fact: numbered-forms.ts) answer
 * as their closures do: a numbered rule is evaluated through its table from its first evaluation on, and its closure
 * is compiled only for an explanation (or when asked for as a node). Each case is one machine, checked all three ways:
 * the rule tables' cases of the numbered rule types (test/engine/rules/tables), and cases of the tables' own.
 */
import { describe, expect, it } from 'vitest';
import { EvalContext } from '../../engine/eval/context.js';
import { EVALUATORS, RuleProgram } from '../../engine/eval/program.js';
import type { EvaluatorTable } from '../../engine/eval/evaluators/table.js';
import { numberedForm } from '../../engine/eval/numbered-forms.js';
import { F, T, U, type Tri } from '../../engine/eval/tri.js';
import { Machine } from '../../engine/inventory/machine.js';
import type { Inventory, InventoryMsiProduct } from '../../engine/inventory/types.js';
import type { LeafRule, RuleMetadata } from '../../engine/model.js';
import { MachineScan, MachineScanBuffers } from '../../engine/scanner/machine-scan.js';
import { catalogOf, loadedCatalogOf, updateRecord } from '../helpers/update-record.js';
import { leafOf, machine as ruleMachine, type RuleTable } from './rules/harness.js';
import { FILE_RULES } from './rules/tables/file.js';
import { MSI_RULES } from './rules/tables/msi.js';
import { CBS_RULES } from './rules/tables/cbs.js';
import { REGISTRY_RULES } from './rules/tables/registry.js';

const OFFICE = '{90160000-0011-0000-1000-0000000FF1CE}';
const VISIO = '{90160000-0051-0000-1000-0000000FF1CE}';
const P1 = '{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEE1}';
const P2 = '{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEE2}';

const patchRule = (product: string, patch: string, extra: Record<string, string> = {}): LeafRule => ({
  kind: 'rule',
  type: 'MsiPatchInstalledForProduct',
  family: 'msi',
  attrs: { ProductCode: product, PatchCode: patch, ...extra },
});

/**
 * A catalog whose updates' IsInstalled rules are `rules`, and the root node of each; `stored`: through the catalog
 * file and back, its leaves prepared by the scan index (catalog/scan-index.ts) instead of as they are met.
 */
function program(rules: readonly LeafRule[], meta?: RuleMetadata, stored = false): { program: RuleProgram; roots: number[] } {
  const catalog = (stored ? loadedCatalogOf : catalogOf)(
    rules.map((rule, k) =>
      updateRecord({
        updateId: `11111111-2222-3333-4444-${String(k).padStart(12, '0')}`,
        revisionId: k + 1,
        rules: { IsInstalled: rule },
        ...(meta ? { metadata: meta } : {}),
      }),
    ),
  );
  return { program: new RuleProgram(catalog), roots: rules.map((_, k) => catalog.ruleRoot(k, 'IsInstalled')) };
}

const machine = (products?: Partial<InventoryMsiProduct>[]): Inventory => ({
  schema: 'patchscan-inventory/1',
  computer: { name: 'MSI-PC' },
  collectedAt: '2026-11-30T00:00:00Z',
  ...(products ? { msi: { products: products.map((p) => ({ productCode: OFFICE, ...p })) } } : {}),
});

const context = (p: RuleProgram, inv: Inventory): EvalContext => new EvalContext(p.catalog, new Machine(inv));

/**
 * The rule's value on `inv`: as numbers (from the first evaluation on), by its closure, and as explained. Checked on
 * the way: a program whose first use of the leaf is an explanation, or its closure asked for as a node, then evaluates
 * it to the same value (the order a leaf is first met in does not change how it answers).
 */
function values(rule: LeafRule, inv: Inventory, meta?: RuleMetadata): { numbered: Tri; closure: Tri; explained: string } {
  const { program: p, roots } = program([rule], meta);
  const numbered = p.eval(roots[0], context(p, inv));
  expect(p.eval(roots[0], context(p, inv)), 'a second evaluation').toBe(numbered);
  const closure = p.node(roots[0])(context(p, inv));
  const explained = p.explain(roots[0], context(p, inv)).value;
  const explainedFirst = program([rule], meta);
  explainedFirst.program.explain(explainedFirst.roots[0], context(explainedFirst.program, inv));
  expect(explainedFirst.program.eval(explainedFirst.roots[0], context(explainedFirst.program, inv)), 'explained first').toBe(numbered);
  const nodeFirst = program([rule], meta);
  nodeFirst.program.node(nodeFirst.roots[0])(context(nodeFirst.program, inv));
  expect(nodeFirst.program.eval(nodeFirst.roots[0], context(nodeFirst.program, inv)), 'its closure first').toBe(numbered);
  // The leaf as a catalog file's scan index stored it: the same answer, and explained the same.
  const fromFile = program([rule], meta, true);
  expect(fromFile.program.eval(fromFile.roots[0], context(fromFile.program, inv)), 'stored by the scan index').toBe(numbered);
  expect(fromFile.program.explain(fromFile.roots[0], context(fromFile.program, inv)).value, 'stored, explained').toBe(explained);
  return { numbered, closure, explained };
}

/**
 * Whether the numbered form of the leaf `rule` throws, and whether its type's compiler throws, given the input the
 * program gives each (program.ts prepare and compile): they must agree, or a leaf with data its compiler refuses
 * would be numbered (a form bug that throws where the compiler does not would only make the leaf slower).
 */
function formAndCompiler(rule: LeafRule, meta?: RuleMetadata): { form: boolean; compiler: boolean } {
  const { program: p, roots } = program([rule], meta);
  const c = p.catalog;
  const id = roots[0];
  const facts = c.nodeFacts(id);
  const { $items, ...attrs } = c.nodeAttrs(id);
  const throws = (f: () => unknown): boolean => {
    try {
      f();
      return false;
    } catch {
      return true;
    }
  };
  const type = rule.kind === 'rule' ? rule.type : '';
  return {
    form: throws(() => numberedForm(type, { attrs: c.nodeAttrs(id), facts, loopRelative: () => false, meta: () => c.metadata(0) })),
    compiler: throws(() =>
      (EVALUATORS as EvaluatorTable)[type as keyof typeof EVALUATORS]!({
        type,
        attrs,
        facts,
        factKinds: facts.map((f) => c.fact(f).kind),
        factArgs: facts.map((f) => c.fact(f).args),
        items: $items ? (JSON.parse($items) as []) : [],
        meta: c.metadata(0),
        child: undefined,
      }),
    ),
  };
}

const NAME: Record<Tri, string> = { [F]: 'False', [T]: 'True', [U]: 'Unknown' };
const WANT: Record<keyof RuleTable, Tri> = { valid: T, invalid: F, unknown: U };

describe.each([
  ['MsiPatchInstalledForProduct', MSI_RULES.MsiPatchInstalledForProduct!],
  ['FileVersion', FILE_RULES.FileVersion!],
  ['FileVersionPrependRegSz', FILE_RULES.FileVersionPrependRegSz!],
  ['CbsPackageInstalled', CBS_RULES.CbsPackageInstalled!],
  ['CbsPackageInstalledByIdentity', CBS_RULES.CbsPackageInstalledByIdentity!],
  ['CbsPackageInstallable', CBS_RULES.CbsPackageInstallable!],
  ['RegValueExists', REGISTRY_RULES.RegValueExists!],
  ['RegDword', REGISTRY_RULES.RegDword!],
] as const)('%s: the rule tables, as numbers', (type, table) => {
  const cases = (['valid', 'invalid', 'unknown'] as const).flatMap((kind) => table[kind].map((c) => ({ ...c, kind })));
  it.each(cases)('$kind: $name', (c) => {
    const v = values(leafOf(type, c), ruleMachine(c.machine), c.meta);
    expect(v.closure, 'closure').toBe(WANT[c.kind]);
    expect(v.numbered, 'numbered').toBe(WANT[c.kind]);
    expect(v.explained, 'explained').toBe(NAME[WANT[c.kind]]);
    const t = formAndCompiler(leafOf(type, c), c.meta);
    expect(t.form, 'the form throws where the compiler throws').toBe(t.compiler);
  });
});

const CASES: readonly { name: string; rule: LeafRule; inv: Inventory; want: Tri }[] = [
  { name: 'patch applied', rule: patchRule(OFFICE, P1), inv: machine([{ patches: [P1] }]), want: T },
  {
    name: 'braces and case do not matter, on either side',
    rule: patchRule(OFFICE.toLowerCase().slice(1, -1), P1.slice(1, -1)),
    inv: machine([{ productCode: OFFICE.toLowerCase(), patches: [P1.toLowerCase()] }]),
    want: T,
  },
  { name: 'another patch applied', rule: patchRule(OFFICE, P1), inv: machine([{ patches: [P2] }]), want: F },
  {
    name: 'the patch applied to another product',
    rule: patchRule(OFFICE, P1),
    inv: machine([{ productCode: VISIO, patches: [P1] }]),
    want: F,
  },
  { name: 'no products', rule: patchRule(OFFICE, P1), inv: machine([]), want: F },
  { name: 'patches not collected', rule: patchRule(OFFICE, P1), inv: machine([{}]), want: U },
  { name: 'MSI not collected', rule: patchRule(OFFICE, P1), inv: machine(), want: U },
  {
    name: 'a product listed twice: the last listing counts (as the machine index reads it)',
    rule: patchRule(OFFICE, P1),
    inv: machine([{ patches: [P1] }, { patches: [] }]),
    want: F,
  },
  {
    name: 'a product listed twice, patches not collected in the last listing',
    rule: patchRule(OFFICE, P1),
    inv: machine([{ patches: [P1] }, {}]),
    want: U,
  },
  {
    name: 'with a version filter (stays a closure)',
    rule: patchRule(OFFICE, P1, { VersionMin: '16.0' }),
    inv: machine([{ version: '15.0.1', patches: [P1] }]),
    want: F,
  },
];

describe('MsiPatchInstalledForProduct as numbers: more cases', () => {
  it.each(CASES)('$name', ({ rule, inv, want }) => {
    const v = values(rule, inv);
    expect(v.closure, 'closure').toBe(want);
    expect(v.numbered, 'numbered').toBe(want);
    expect(v.explained, 'explained').toBe(NAME[want]);
  });

  it('a rule numbered while a machine is being scanned sees that machine’s patches (the machine is read again)', () => {
    const { program: p, roots } = program([patchRule(OFFICE, P1), patchRule(OFFICE, P2), patchRule(VISIO, P2)]);
    const warm = machine([{ patches: [] }]);
    p.eval(roots[0], context(p, warm)); // numbers OFFICE and P1 only
    p.eval(roots[0], context(p, warm));
    const inv = machine([{ patches: [P1, P2] }, { productCode: VISIO, patches: [P2] }]);
    const ctx = context(p, inv);
    expect(p.eval(roots[0], ctx)).toBe(T); // the machine's numbers are built here, without P2 or VISIO
    expect(p.eval(roots[1], ctx)).toBe(T); // numbers P2 and answers as numbers: the machine must be read again
    expect(p.eval(roots[1], ctx)).toBe(T);
    expect(p.eval(roots[2], ctx)).toBe(T);
    expect(p.eval(roots[2], ctx)).toBe(T);
    expect(p.eval(roots[0], ctx)).toBe(T);
  });
});

const fileVersion = (version: string, comparison = 'GreaterThanOrEqualTo', path = 'a.dll'): LeafRule => ({
  kind: 'rule',
  type: 'FileVersion',
  family: 'base',
  attrs: { Path: path, Csidl: '37', Comparison: comparison, Version: version },
});
const files = (...fs: { path?: string; version?: string; exists?: boolean }[]): Inventory => ({
  ...machine(),
  csidl: { '37': 'C:\\Windows\\System32' },
  files: fs.map((f) => ({
    path: `C:\\Windows\\System32\\${f.path ?? 'a.dll'}`,
    exists: f.exists ?? true,
    ...(f.version ? { version: f.version } : {}),
  })),
});

describe('FileVersion as numbers: more cases', () => {
  const comparisons = [
    ['LessThan', [T, F, F]],
    ['LessThanOrEqualTo', [T, T, F]],
    ['EqualTo', [F, T, F]],
    ['GreaterThanOrEqualTo', [F, T, T]],
    ['GreaterThan', [F, F, T]],
  ] as const;
  // Below, equal to and above 10.0.19041.5000, each decided by a different part (and a short version's zeros).
  const versions = ['10.0.19041.4999', '10.0.19041.5000', '10.1'];
  it.each(comparisons)('%s', (comparison, want) => {
    versions.forEach((have, k) => {
      const v = values(fileVersion('10.0.19041.5000', comparison), files({ version: have }));
      expect([v.closure, v.numbered], `${have} ${comparison}`).toEqual([want[k], want[k]]);
    });
  });

  it.each([
    ['no version resource', files({}), F],
    ['a version that does not parse', files({ version: '1.2.beta' }), F],
    ['a version with ten-digit parts (past 32 bits)', files({ version: '4294967296.0.0.1' }), T],
    ['collected and absent', files({ exists: false }), F],
    ['not listed', files({ path: 'b.dll', version: '11.0' }), U],
    ['files not collected', machine(), U],
  ] as const)('%s', (_, inv, want) => {
    const v = values(fileVersion('10.0.19041.5000'), inv);
    expect([v.closure, v.numbered, v.explained]).toEqual([want, want, NAME[want]]);
  });

  it('rules on one file share its parsed version on a machine; the next machine of the same buffers reads its own', () => {
    const rules = [fileVersion('2.0'), fileVersion('3.0', 'LessThan'), fileVersion('1.0', 'GreaterThan', 'b.dll')];
    const { program: p, roots } = program(rules);
    const buffers = MachineScanBuffers.for(p.catalog);
    const scan = (inv: Inventory): Tri[] => {
      buffers.reset();
      const s = new MachineScan(p.catalog, p, inv, buffers);
      return roots.map((r) => p.eval(r, s.ctx));
    };
    scan(files({ version: '2.5' }, { path: 'b.dll', version: '0.9' })); // numbers every rule
    expect(scan(files({ version: '2.5' }, { path: 'b.dll', version: '0.9' }))).toEqual([T, T, F]);
    expect(scan(files({ version: '3.5' }, { path: 'b.dll', version: '1.5' }))).toEqual([T, F, T]);
    expect(scan(files({ version: '1.5' }))).toEqual([F, T, U]);
    expect(scan(files({ path: 'b.dll', version: '1.5' }))).toEqual([U, U, T]);
  });

  it('a FileVersionPrependRegSz inside a RegKeyLoop (a file per subkey visited) reads each subkey’s file', () => {
    const inLoop: LeafRule = {
      kind: 'rule',
      type: 'RegKeyLoop',
      family: 'base',
      attrs: { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\Apps', TrueIf: 'All' },
      // Under an And, so the file rule is evaluated as a node (a loop's own child is called as its closure).
      child: {
        kind: 'and',
        children: [
          {
            kind: 'rule',
            type: 'FileVersionPrependRegSz',
            family: 'base',
            attrs: {
              Key: 'HKEY_LOOP_TARGET',
              Subkey: '',
              Value: 'Dir',
              Path: 'app.exe',
              Comparison: 'GreaterThanOrEqualTo',
              Version: '2.0',
            },
          },
          {
            kind: 'rule',
            type: 'FileExistsPrependRegSz',
            family: 'base',
            attrs: { Key: 'HKEY_LOOP_TARGET', Subkey: '', Value: 'Dir', Path: 'app.exe' },
          },
        ],
      },
    };
    const apps = (versions: string[]): Inventory => ({
      ...machine(),
      registry: [
        { key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Apps', exists: true, subkeys: versions.map((_, k) => `A${k}`) },
        ...versions.map((_, k) => ({
          key: `HKEY_LOCAL_MACHINE\\SOFTWARE\\Apps\\A${k}`,
          exists: true,
          values: [{ name: 'Dir', type: 'REG_SZ' as const, data: `C:\\A${k}` }],
        })),
      ],
      files: versions.map((v, k) => ({ path: `C:\\A${k}\\app.exe`, exists: true, version: v })),
    });
    const { program: p, roots } = program([inLoop]);
    p.eval(roots[0], context(p, apps(['2.0']))); // prepares
    expect(p.eval(roots[0], context(p, apps(['2.0', '3.0'])))).toBe(T);
    expect(p.eval(roots[0], context(p, apps(['2.0', '1.0'])))).toBe(F);
    expect(p.eval(roots[0], context(p, apps(['1.0', '2.0'])))).toBe(F);
  });
});

describe('the interpreter over operators with very many children', () => {
  it.each([
    ['And', 'and', F],
    ['Or', 'or', T],
  ] as const)('%s of 70,000 rules (past the child count the node head holds) reads every child', (_, kind, want) => {
    // Each child differs (its version), so none is merged with another; only the last one decides.
    const n = 70_000;
    const child = (k: number): LeafRule =>
      fileVersion(`1.0.0.${k}`, k === n - 1 ? (kind === 'and' ? 'LessThan' : 'EqualTo') : kind === 'and' ? 'GreaterThan' : 'LessThan');
    const rule = { kind, children: Array.from({ length: n }, (_, k) => child(k)) };
    const catalog = catalogOf([
      updateRecord({ updateId: '11111111-2222-3333-4444-555555555555', revisionId: 1, rules: { IsInstalled: rule } }),
    ]);
    const p = new RuleProgram(catalog);
    const root = catalog.ruleRoot(0, 'IsInstalled');
    const inv = files({ version: '1.0.0.69999' });
    expect(p.eval(root, context(p, inv))).toBe(want); // numbers every child
    expect(p.eval(root, context(p, inv))).toBe(want);
    expect(p.explain(root, context(p, inv)).value).toBe(NAME[want]); // through every child's closure
  });
});

describe('file versions with buffers built by hand', () => {
  it('buffers with fewer fact slots than the catalog: a file not collected stays Unknown as numbers', () => {
    const { program: p, roots } = program([fileVersion('1.0')]);
    const buffers = new MachineScanBuffers(p.catalog.size, 0);
    const scan = (): Tri => {
      buffers.reset();
      return p.eval(roots[0], new MachineScan(p.catalog, p, machine(), buffers).ctx);
    };
    expect(scan()).toBe(U);
    expect(scan()).toBe(U);
    expect(p.node(roots[0])(new MachineScan(p.catalog, p, machine(), buffers).ctx)).toBe(U); // its closure
  });
});

describe('attributes a numbered form cannot read: the leaf is its compiler’s Unknown leaf, saying why', () => {
  // A form is computed before any closure (numbered-forms.ts): it must refuse what the type's compiler refuses, or a
  // leaf with bad data would answer True or False where its closure is Unknown.
  const prepend = (attrs: Record<string, string>): LeafRule => ({
    kind: 'rule',
    type: 'FileVersionPrependRegSz',
    family: 'base',
    attrs: { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\App', Value: 'Dir', Path: 'a.dll', ...attrs },
  });
  // The file is there, at version 1.0, found both ways: a readable rule of either type would answer True or False.
  const inv: Inventory = {
    ...files({ version: '1.0' }),
    registry: [
      {
        key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\App',
        exists: true,
        values: [
          { name: 'Dir', type: 'REG_SZ', data: 'C:\\Windows\\System32' },
          { name: 'Level', type: 'REG_DWORD', data: 3 },
        ],
      },
    ],
    cbs: { packages: [{ identity: 'Package_for_KB1~31bf3856ad364e35~amd64~~10.0.1.0', state: 'Installed' }] },
  };
  const dword = (attrs: Record<string, string>): LeafRule => ({
    kind: 'rule',
    type: 'RegDword',
    family: 'base',
    attrs: { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\App', Value: 'Level', ...attrs },
  });
  const cbsByIdentity = (identity: string): LeafRule => ({
    kind: 'rule',
    type: 'CbsPackageInstalledByIdentity',
    family: 'cbs',
    attrs: { PackageIdentity: identity },
  });
  it('the machine: readable rules of each type answer', () => {
    expect(values(fileVersion('1.0', 'EqualTo'), inv).numbered).toBe(T);
    expect(values(prepend({ Comparison: 'EqualTo', Version: '1.0' }), inv).numbered).toBe(T);
    expect(values(cbsByIdentity('Package_for_KB1~31bf3856ad364e35~amd64~~10.0.1.0'), inv).numbered).toBe(T);
    expect(values(cbsByIdentity('Package_for_KB2~31bf3856ad364e35~amd64~~10.0.1.0'), inv).numbered).toBe(F);
    expect(values(dword({ Comparison: 'EqualTo', Data: '3' }), inv).numbered).toBe(T);
    expect(values(dword({ Comparison: 'GreaterThan', Data: '3' }), inv).numbered).toBe(F);
  });
  it.each([
    ['FileVersion, Comparison not a comparison', fileVersion('1.0', 'Sometimes')],
    ['FileVersion, Version not a version', fileVersion('1.x')],
    ['FileVersion, Version empty', fileVersion('')],
    ['FileVersionPrependRegSz, Comparison not a comparison', prepend({ Comparison: 'Around', Version: '1.0' })],
    ['FileVersionPrependRegSz, Version not a version', prepend({ Comparison: 'EqualTo', Version: 'one' })],
    ['CbsPackageInstalledByIdentity, PackageIdentity empty', cbsByIdentity('')],
    ['RegDword, Comparison not a comparison', dword({ Comparison: 'Roughly', Data: '3' })],
    ['RegDword, Data not a number', dword({ Comparison: 'EqualTo', Data: 'three' })],
  ] as const)('%s', (_, rule) => {
    const v = values(rule, inv);
    expect([v.numbered, v.closure, v.explained]).toEqual([U, U, 'Unknown']);
    expect(formAndCompiler(rule)).toEqual({ form: true, compiler: true });
    const { program: p, roots } = program([rule]);
    const reads = p.explain(roots[0], context(p, inv)).reads;
    expect(reads.map((r) => r.value).join(' ')).toMatch(/has invalid attribute data/);
  });
});
