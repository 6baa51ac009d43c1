/**
 * MsiPatchInstalledForProduct rules evaluated as numbers (engine/eval/msi-patch-table.ts) answer as their closures
 * do: the first evaluation of a rule compiles it and goes through the closure, every later one through the table,
 * and an explanation through the closure again. Each case is one machine, checked all three ways.
 */
import { describe, expect, it } from 'vitest';
import { EvalContext } from '../../engine/eval/context.js';
import { RuleProgram } from '../../engine/eval/program.js';
import { F, T, U, type Tri } from '../../engine/eval/tri.js';
import { Machine } from '../../engine/inventory/machine.js';
import type { Inventory, InventoryMsiProduct } from '../../engine/inventory/types.js';
import type { LeafRule } from '../../engine/model.js';
import { catalogOf, updateRecord } from '../helpers/update-record.js';

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

/** A catalog whose updates' IsInstalled rules are `rules`, and the root node of each. */
function program(rules: readonly LeafRule[]): { program: RuleProgram; roots: number[] } {
  const catalog = catalogOf(
    rules.map((rule, k) =>
      updateRecord({ updateId: `11111111-2222-3333-4444-${String(k).padStart(12, '0')}`, revisionId: k + 1, rules: { IsInstalled: rule } }),
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

/** The rule's value on `inv`: as numbers (after a first machine compiled it), and as the explanation's closure. */
function values(rule: LeafRule, inv: Inventory): { numbered: Tri; closure: Tri; explained: string } {
  const { program: p, roots } = program([rule]);
  const closure = p.eval(roots[0], context(p, inv)); // the first evaluation compiles: the closure answers
  const numbered = p.eval(roots[0], context(p, inv));
  const explained = p.explain(roots[0], context(p, inv)).value;
  return { numbered, closure, explained };
}

const NAME: Record<Tri, string> = { [F]: 'False', [T]: 'True', [U]: 'Unknown' };

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

describe('MsiPatchInstalledForProduct as numbers', () => {
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
    expect(p.eval(roots[1], ctx)).toBe(T); // compiles (numbers P2) and answers through its closure
    expect(p.eval(roots[1], ctx)).toBe(T); // now as numbers: the machine must be read again to know P2
    expect(p.eval(roots[2], ctx)).toBe(T);
    expect(p.eval(roots[2], ctx)).toBe(T);
    expect(p.eval(roots[0], ctx)).toBe(T);
  });
});
