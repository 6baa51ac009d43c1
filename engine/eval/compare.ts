/** Comparison semantics of the rule language (reference §3.2). */
import { TextMemo } from '../text-memo.js';

export type ScalarComparison = 'LessThan' | 'LessThanOrEqualTo' | 'EqualTo' | 'GreaterThanOrEqualTo' | 'GreaterThan';
export type StringComparison = 'EqualTo' | 'BeginsWith' | 'Contains' | 'EndsWith';

/**
 * The scalar comparisons, in a fixed order: a numbered rule table stores one as its index here, and so do catalog files'
 * prepared leaves (catalog/scan-index.ts; eval/leaf-scheme.ts digests this order, so files read by a build with
 * another order leave them unread).
 */
export const SCALAR_COMPARISONS: readonly ScalarComparison[] = [
  'LessThan',
  'LessThanOrEqualTo',
  'EqualTo',
  'GreaterThanOrEqualTo',
  'GreaterThan',
];
const SCALAR = new Set<string>(SCALAR_COMPARISONS);
const STRING = new Set(['EqualTo', 'BeginsWith', 'Contains', 'EndsWith']);

export class RuleDataError extends Error {}

export function scalarOp(v: string | undefined, def?: ScalarComparison): ScalarComparison {
  if (v === undefined && def) return def;
  if (v === undefined || !SCALAR.has(v)) throw new RuleDataError(`Comparison ${JSON.stringify(v ?? null)} is not a scalar comparison`);
  return v as ScalarComparison;
}

export function stringOp(v: string | undefined): StringComparison {
  if (v === undefined || !STRING.has(v)) throw new RuleDataError(`Comparison ${JSON.stringify(v ?? null)} is not a string comparison`);
  return v as StringComparison;
}

/** Applies a scalar comparison to a three-way result `c` (<0, 0, >0) of "actual vs wanted". */
export function holds(op: ScalarComparison, c: number): boolean {
  switch (op) {
    case 'LessThan':
      return c < 0;
    case 'LessThanOrEqualTo':
      return c <= 0;
    case 'EqualTo':
      return c === 0;
    case 'GreaterThanOrEqualTo':
      return c >= 0;
    case 'GreaterThan':
      return c > 0;
  }
}

export const cmpNum = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);

const VERSION_TEXT = /^\d{1,10}(\.\d{1,10}){0,3}$/;
// Machines of a fleet share version strings; parsed versions are kept (read-only; null: not a version).
const parsedVersions = new TextMemo<readonly number[] | null>(100_000, (s) => {
  const t = s.trim();
  if (!VERSION_TEXT.test(t)) return null;
  const v = t.split('.').map(Number);
  while (v.length < 4) v.push(0);
  return v;
});

/** A 1-4 part dotted version → four numbers (missing parts are 0), or undefined. The array must not be changed. */
export function parseVersion(s: string | undefined): number[] | undefined {
  if (s === undefined) return undefined;
  return (parsedVersions.get(s) ?? undefined) as number[] | undefined;
}

export function requireVersion(s: string | undefined, attr: string): number[] {
  const v = parseVersion(s);
  if (!v) throw new RuleDataError(`${attr} ${JSON.stringify(s ?? null)} is not a version`);
  return v;
}

export function cmpVersion(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 4; i++) {
    const c = cmpNum(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

export function requireInt(s: string | undefined, attr: string): number {
  if (s === undefined || !/^-?\d+$/.test(s.trim())) throw new RuleDataError(`${attr} ${JSON.stringify(s ?? null)} is not an integer`);
  return Number(s);
}

/** Registry and file-system strings compare case-insensitively, as Windows does. */
export function stringHolds(op: StringComparison, actual: string, wanted: string): boolean {
  const a = actual.toLowerCase();
  const w = wanted.toLowerCase();
  switch (op) {
    case 'EqualTo':
      return a === w;
    case 'BeginsWith':
      return a.startsWith(w);
    case 'Contains':
      return a.includes(w);
    case 'EndsWith':
      return a.endsWith(w);
  }
}

/**
 * A date-time in milliseconds, or undefined when `s` is not one. Without a zone it is UTC — Windows file times are,
 * and a scan must not depend on the server's time zone (rule attributes and inventories alike).
 */
export function parseDate(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = Date.parse(/Z|[+-]\d\d:\d\d$/.test(s) ? s : `${s}Z`);
  return Number.isNaN(t) ? undefined : t;
}

export function requireDate(s: string | undefined, attr: string): number {
  const t = parseDate(s);
  if (t === undefined) throw new RuleDataError(`${attr} ${JSON.stringify(s ?? null)} is not a date-time`);
  return t;
}

/**
 * Rule attributes of the schema's type xs:boolean (BaseTypes.xsd, BaseApplicabilityRules.xsd,
 * MsiApplicabilityRules.xsd), on whichever rule carries them: each is checked before a leaf is compiled or numbered
 * ({@link checkBooleanAttributes}), so a value that is none of xs:boolean's four spellings makes the rule Unknown
 * rather than quietly false.
 */
export const BOOLEAN_ATTRIBUTES = [
  'RegType32',
  'AllSuitesMustBePresent',
  'ExcludeVersionMin',
  'ExcludeVersionMax',
  'AllFeaturesRequired',
  'AllComponentsRequired',
  'AllProductsRequired',
] as const;

/** An xs:boolean attribute: absent is its default, false; 'true'/'1' and 'false'/'0'; anything else is refused. */
export function bool(s: string | undefined, attr = 'attribute'): boolean {
  if (s === undefined || s === 'false' || s === '0') return false;
  if (s === 'true' || s === '1') return true;
  throw new RuleDataError(`${attr} ${JSON.stringify(s)} is not a boolean (true, false, 1 or 0)`);
}

/** Throws RuleDataError naming the first boolean attribute of `attrs` whose value is not one. */
export function checkBooleanAttributes(attrs: Readonly<Record<string, string>>): void {
  for (const a of BOOLEAN_ATTRIBUTES) if (attrs[a] !== undefined) bool(attrs[a], a);
}

/** An xs:unsignedInt attribute (a DWORD): a whole number from 0 to 4,294,967,295. */
export function requireUint32(s: string | undefined, attr: string): number {
  const n = requireInt(s, attr);
  if (n < 0 || n > 0xffffffff) throw new RuleDataError(`${attr} ${JSON.stringify(s)} is outside 0 to 4294967295`);
  return n;
}
