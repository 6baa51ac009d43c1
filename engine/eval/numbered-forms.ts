/**
 * The leaf rules a scan evaluates as numbers instead of closures, by rule type: what each one's numbered form is
 * (msi-patch-table.ts, file-version-table.ts and reg-value-table.ts say why and how). One table keyed by the registry's rule types, like
 * the evaluator tables: a misspelled type does not compile, and the program (program.ts) names no rule type itself.
 *
 * A form is asked for before the leaf's closure is compiled (a numbered leaf gets none unless explained): so a form
 * reads the attributes with the same checks as its type's compiler, and throws where the compiler throws (the leaf is
 * then the compiler's Unknown leaf; test/engine/numbered-leaves.test.ts holds each type to it). `undefined` keeps the
 * leaf a closure — a filter the table cannot express, or a fact that is not one value per machine (inside a
 * RegKeyLoop, the file depends on the subkey visited).
 *
 * Catalog files store the forms of their leaves (catalog/scan-index.ts PreparedLeaves): what a form is for given
 * attributes is part of their scheme (leaf-scheme.ts digests the forms of sample leaves), and a change the samples
 * would not show must bump PREPARED_LEAVES_VERSION (test/catalog/scan-index.test.ts's leaf digest says so).
 */
import type { KnownRuleType } from '../rules/registry.js';
import { requireVersion, scalarOp, type ScalarComparison } from './compare.js';
import { regDwordWant, regValueType } from './evaluators/file-registry.js';
import { CBS_IDENTITY, cbsInstallableRule, NO_CBS_IDENTITY, type CbsInstallableRule } from './evaluators/packages.js';
import type { LeafInput } from './leaf.js';

/** A leaf as numbered: by the MSI patch, file version or registry value table, or off its fact (CBS packages). */
export type NumberedForm =
  | { readonly table: 'msiPatch'; readonly product: string; readonly patch: string }
  | { readonly table: 'fileVersion'; readonly fact: number; readonly op: ScalarComparison; readonly want: readonly number[] }
  | { readonly table: 'cbsInstalled'; readonly fact: number }
  | { readonly table: 'cbsInstallable'; readonly fact: number; readonly rule: CbsInstallableRule }
  | { readonly table: 'regValueExists'; readonly fact: number; readonly type: string | undefined }
  | { readonly table: 'regDword'; readonly fact: number; readonly op: ScalarComparison; readonly want: number };

/** What a numbered form is read from: the leaf's attributes and facts, and whether its first fact is loop-relative. */
export interface NumberingInput {
  readonly attrs: Readonly<Record<string, string>>;
  readonly facts: readonly number[];
  /** Whether fact `facts[k]` depends on the subkey a RegKeyLoop visits. */
  readonly loopRelative: (fact: number) => boolean;
  /** The Metadata of the leaf's update (read only by the forms whose compiler reads it). */
  readonly meta: () => LeafInput['meta'];
}

type NumberedForms = { readonly [T in KnownRuleType]?: (leaf: NumberingInput) => NumberedForm | undefined };

/** The leaf's fact, when it is one value per machine (not read inside a RegKeyLoop's subkey), else undefined. */
const oneValue = ({ facts, loopRelative }: NumberingInput): number | undefined =>
  facts.length > 0 && !loopRelative(facts[0]!) ? facts[0]! : undefined;

/** A file's version compared with the rule's: one record of numbers per rule, one parse per file and machine. */
const fileVersion = (leaf: NumberingInput): NumberedForm | undefined => {
  const fact = oneValue(leaf);
  return fact === undefined
    ? undefined
    : { table: 'fileVersion', fact, op: scalarOp(leaf.attrs.Comparison), want: requireVersion(leaf.attrs.Version, 'Version') };
};

/**
 * A CBS package installed: the answer is read off the rule's fact (the machine's packages matching its identity), one
 * value per machine, with no closure to call.
 */
const cbsInstalled =
  (identity: (typeof CBS_IDENTITY)[keyof typeof CBS_IDENTITY]) =>
  (leaf: NumberingInput): NumberedForm | undefined => {
    if (!identity(leaf.meta(), leaf.attrs)) throw new Error(NO_CBS_IDENTITY);
    const fact = oneValue(leaf);
    return fact === undefined ? undefined : { table: 'cbsInstalled', fact };
  };

export const NUMBERED_FORMS = {
  // Without a VersionMin, VersionMax or Language filter (a filter reads the product's version or language).
  MsiPatchInstalledForProduct: ({ attrs }) =>
    attrs.VersionMin === undefined && attrs.VersionMax === undefined && attrs.Language === undefined
      ? { table: 'msiPatch', product: attrs.ProductCode ?? '', patch: attrs.PatchCode ?? '' }
      : undefined,
  FileVersion: fileVersion,
  FileVersionPrependRegSz: fileVersion,
  CbsPackageInstalled: cbsInstalled(CBS_IDENTITY.CbsPackageInstalled),
  CbsPackageInstalledByIdentity: cbsInstalled(CBS_IDENTITY.CbsPackageInstalledByIdentity),
  // Its identity parsed once, into a record a table keeps (no closure, no compiler input kept).
  CbsPackageInstallable: (leaf) => {
    const rule = cbsInstallableRule(leaf.meta());
    const fact = oneValue(leaf);
    return fact === undefined ? undefined : { table: 'cbsInstallable', fact, rule };
  },
  RegValueExists: (leaf) => {
    const type = regValueType(leaf.attrs);
    const fact = oneValue(leaf);
    return fact === undefined ? undefined : { table: 'regValueExists', fact, type };
  },
  RegDword: (leaf) => {
    const { op, want } = regDwordWant(leaf.attrs);
    const fact = oneValue(leaf);
    return fact === undefined ? undefined : { table: 'regDword', fact, op, want };
  },
} as const satisfies NumberedForms;

/** Whether leaves of rule type `type` may have a numbered form. */
export const hasNumberedForm = (type: string): boolean => Object.hasOwn(NUMBERED_FORMS, type);

/**
 * The numbered form of a leaf of rule type `type`, or undefined when it stays a closure. Throws where the type's
 * compiler throws (attributes it cannot read): the closure then says why the leaf is Unknown.
 */
export function numberedForm(type: string, leaf: NumberingInput): NumberedForm | undefined {
  return Object.hasOwn(NUMBERED_FORMS, type) ? (NUMBERED_FORMS as NumberedForms)[type as KnownRuleType]!(leaf) : undefined;
}
