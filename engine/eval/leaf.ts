/**
 * What every leaf-rule evaluator gets and returns. A rule file (`rules/*.ts`) maps rule names to compilers;
 * a compiler checks and parses the attributes once (bad data → the rule is Unknown, WU_E_EE_INVALID_ATTRIBUTEDATA)
 * and returns a closure that evaluates one machine.
 */
import type { ItemRef } from '../rules/registry.js';
import { ABSENT, NOT_COLLECTED, factLabel, type EvalContext } from './context.js';
import { T, U, type Tri } from './tri.js';

export type CompiledNode = (ctx: EvalContext) => Tri;

export interface LeafInput {
  readonly type: string;
  readonly attrs: Readonly<Record<string, string>>;
  /** Catalog fact ids this rule reads, in the order the registry lists them. */
  readonly facts: readonly number[];
  readonly factKinds: readonly string[];
  readonly factArgs: readonly (readonly string[])[];
  readonly meta?: { readonly element: string; readonly attrs: Readonly<Record<string, string>> };
  readonly items: readonly ItemRef[];
  /** RegKeyLoop's child rule. */
  readonly child?: CompiledNode;
}

export type RuleCompiler = (input: LeafInput) => CompiledNode;

/**
 * The catalog fact a rule reads, as a number for the rule's closure to capture: evaluation then never touches the
 * LeafInput (a scan runs tens of thousands of closures over a catalog far larger than the CPU caches, and each
 * object touched is a likely cache miss). -1 when the rule names no fact.
 */
export const factOf = (input: LeafInput): number => input.facts[0] ?? -1;

/**
 * Reads `fact` (from {@link factOf}); on NOT_COLLECTED the caller returns Unknown. While explaining, records the
 * reading with `show` formatting the value.
 */
export function readFact(ctx: EvalContext, fact: number, input: LeafInput, show: (v: unknown) => string = String): unknown {
  if (fact < 0) return NOT_COLLECTED;
  const v = ctx.fact(fact);
  if (ctx.readings) {
    const kind = input.factKinds[0]!,
      args = input.factArgs[0]!;
    const label = factLabel(kind, args, input.attrs);
    const absent = (): string => (kind === 'fileUnderRegSz' ? ctx.whyFileUnderRegSzAbsent(args) : 'absent');
    ctx.read(() => ({ fact: label, value: v === NOT_COLLECTED ? 'not collected' : v === ABSENT ? absent() : show(v) }));
  }
  return v;
}

/** A leaf that is always Unknown, with its reason shown when explaining. */
export function unknownLeaf(reason: string): CompiledNode {
  return (ctx) => {
    ctx.read(() => ({ fact: 'reason', value: reason }));
    return U;
  };
}

export { ABSENT, NOT_COLLECTED, T, U };
