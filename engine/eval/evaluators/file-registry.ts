/**
 * File and registry rules (reference §3.3). Files are found through their CSIDL folder (or a registry string
 * that holds the folder, for the *PrependRegSz variants); registry reads honour the 32-bit view (RegType32).
 *
 * Decisions (docs/semantics.md): a file or value that was collected and is absent makes every comparison
 * False; a file without a version resource makes FileVersion False; strings compare case-insensitively.
 */
import { withoutTrailingBackslash } from '../../inventory/machine.js';
import type { InventoryFile, InventoryRegistryKey, InventoryRegistryValue } from '../../inventory/types.js';
import {
  cmpNum,
  cmpVersion,
  holds,
  parseDate,
  parseVersion,
  requireDate,
  requireInt,
  requireUint32,
  requireVersion,
  RuleDataError,
  scalarOp,
  stringHolds,
  stringOp,
  type ScalarComparison,
} from '../compare.js';
import { ABSENT, NOT_COLLECTED, factOf, readFact, type CompiledNode, type LeafInput, type RuleCompiler } from '../leaf.js';
import type { EvaluatorTable } from './table.js';
import { F, T, U, triOf, type Tri } from '../tri.js';

type FileField = 'version' | 'size' | 'created' | 'modified' | 'language';

/**
 * How a file reading is shown in reasons: only the properties the rule compares (the version is always shown).
 * Reasons must depend only on what rules read — machines sharing those share results (fleet/fingerprint.ts).
 */
const fileText =
  (fields: readonly FileField[]) =>
  (v: unknown): string => {
    const f = v as InventoryFile;
    const parts = [`exists${f.version ? `, version ${f.version}` : ', no version'}`];
    for (const k of fields) if (k !== 'version') parts.push(`${k} ${f[k] ?? 'not collected'}`);
    return parts.join(', ');
  };
const valueText = (v: unknown): string => {
  const r = v as InventoryRegistryValue;
  return `${r.type} ${Array.isArray(r.data) ? r.data.join('|') : String(r.data)}`;
};

/** FileExists with optional Version/Created/Modified/Size/Language that must all match. */
const fileExists: RuleCompiler = (input) => {
  const fact = factOf(input);
  const a = input.attrs;
  const version = a.Version !== undefined ? requireVersion(a.Version, 'Version') : undefined;
  const created = a.Created !== undefined ? requireDate(a.Created, 'Created') : undefined;
  const modified = a.Modified !== undefined ? requireDate(a.Modified, 'Modified') : undefined;
  const size = a.Size !== undefined ? requireInt(a.Size, 'Size') : undefined;
  const language = a.Language !== undefined ? requireInt(a.Language, 'Language') : undefined;
  const shown: FileField[] = [];
  if (size !== undefined) shown.push('size');
  if (created !== undefined) shown.push('created');
  if (modified !== undefined) shown.push('modified');
  if (language !== undefined) shown.push('language');
  const text = fileText(shown);
  return (ctx) => {
    const f = readFact(ctx, fact, input, text);
    if (f === NOT_COLLECTED) return U;
    if (f === ABSENT) return F;
    const file = f as InventoryFile;
    let r: Tri = T;
    const check = <V>(have: V | undefined, ok: (have: V) => boolean): void => {
      if (r === F) return;
      if (have === undefined) r = U;
      else if (!ok(have)) r = F;
    };
    // A version or date the inventory gives but that cannot be read is not known (undefined → Unknown), never "equal".
    if (version) check(parseVersion(file.version), (v) => cmpVersion(v, version) === 0);
    if (created !== undefined) check(parseDate(file.created), (t) => t === created);
    if (modified !== undefined) check(parseDate(file.modified), (t) => t === modified);
    if (size !== undefined) check(file.size, (n) => n === size);
    if (language !== undefined) check(file.language, (l) => l === language);
    return r;
  };
};

/** FileVersion / FileCreated / FileModified / FileSize: compare one property of an existing file. */
function fileProperty(kind: 'Version' | 'Created' | 'Modified' | 'Size'): RuleCompiler {
  return (input) => {
    const fact = factOf(input);
    const op = scalarOp(input.attrs.Comparison);
    const raw = input.attrs[kind];
    const want: number[] | number =
      kind === 'Version' ? requireVersion(raw, 'Version') : kind === 'Size' ? requireInt(raw, 'Size') : requireDate(raw, kind);
    const text = fileText([kind.toLowerCase() as FileField]);
    return (ctx) => {
      const f = readFact(ctx, fact, input, text);
      if (f === NOT_COLLECTED) return U;
      if (f === ABSENT) return F;
      const file = f as InventoryFile;
      switch (kind) {
        case 'Version': {
          if (file.version === undefined) return F; // no version resource
          const v = parseVersion(file.version);
          return v ? triOf(holds(op, cmpVersion(v, want as number[]))) : F;
        }
        case 'Size':
          return file.size === undefined ? U : triOf(holds(op, cmpNum(file.size, want as number)));
        case 'Created':
        case 'Modified': {
          const t = parseDate(kind === 'Created' ? file.created : file.modified);
          return t === undefined ? U : triOf(holds(op, cmpNum(t, want as number)));
        }
      }
    };
  };
}

const showExists = (): string => 'exists';
const regKeyExists: RuleCompiler = (input) => {
  const fact = factOf(input);
  return (ctx) => {
    const k = readFact(ctx, fact, input, showExists);
    return k === NOT_COLLECTED ? U : triOf(k !== ABSENT);
  };
};

/** RegValueExists's answer from its fact's value (the value, absent, or not collected) and its Type attribute. */
export function regValueExistsOf(v: unknown, type: string | undefined): Tri {
  if (v === NOT_COLLECTED) return U;
  if (v === ABSENT) return F;
  return triOf(type === undefined || (v as InventoryRegistryValue).type === type);
}

/**
 * The schema's registry value types (BaseTypes.xsd RegistryValueType, an xs:token: surrounding blanks collapse).
 * Part of the scheme of catalog files' prepared leaves (eval/leaf-scheme.ts).
 */
export const REGISTRY_VALUE_TYPES: ReadonlySet<string> = new Set([
  'REG_BINARY',
  'REG_DWORD',
  'REG_EXPAND_SZ',
  'REG_MULTI_SZ',
  'REG_QWORD',
  'REG_SZ',
  'REG_FULL_RESOURCE_DESCRIPTOR',
]);

/**
 * RegValueExists's Type, as its compiler and its numbered form read it: undefined (any type), or one of the schema's
 * types; any other is bad attribute data (the rule is Unknown), never a type no value has (which would be False).
 */
export function regValueType(attrs: Readonly<Record<string, string>>): string | undefined {
  const t = attrs.Type?.trim();
  if (t === undefined) return undefined;
  if (!REGISTRY_VALUE_TYPES.has(t)) throw new RuleDataError(`Type ${JSON.stringify(attrs.Type)} is not a registry value type`);
  return t;
}

const regValueExists: RuleCompiler = (input) => {
  const fact = factOf(input);
  const type = regValueType(input.attrs);
  return (ctx) => regValueExistsOf(readFact(ctx, fact, input, valueText), type);
};

/** RegDword's answer from its fact's value: a value of another type does not satisfy it (RegDword on a REG_SZ is False). */
export function regDwordOf(v: unknown, op: ScalarComparison, want: number): Tri {
  if (v === NOT_COLLECTED) return U;
  if (v === ABSENT) return F;
  const val = v as InventoryRegistryValue;
  if (val.type !== 'REG_DWORD') return F;
  return triOf(holds(op, cmpNum(val.data as number, want)));
}

/** RegDword's comparison and number, read as its compiler reads them (its numbered form reads them with this too). */
export const regDwordWant = (attrs: Readonly<Record<string, string>>): { readonly op: ScalarComparison; readonly want: number } => ({
  op: scalarOp(attrs.Comparison),
  want: requireUint32(attrs.Data, 'Data'),
});

function regCompare(
  types: readonly string[],
  compile: (input: LeafInput) => (data: InventoryRegistryValue['data']) => boolean,
): RuleCompiler {
  return (input) => {
    const fact = factOf(input);
    const test = compile(input);
    return (ctx) => {
      const v = readFact(ctx, fact, input, valueText);
      if (v === NOT_COLLECTED) return U;
      if (v === ABSENT) return F;
      const val = v as InventoryRegistryValue;
      // A value of another type does not satisfy the rule (RegDword on a REG_SZ is False).
      if (!types.includes(val.type)) return F;
      return triOf(test(val.data));
    };
  };
}

const regDword: RuleCompiler = (input) => {
  const fact = factOf(input);
  const { op, want } = regDwordWant(input.attrs);
  return (ctx) => regDwordOf(readFact(ctx, fact, input, valueText), op, want);
};

const regString = regCompare(['REG_SZ', 'REG_EXPAND_SZ'], (input) => {
  const op = stringOp(input.attrs.Comparison);
  const want = input.attrs.Data ?? '';
  return (d) => stringHolds(op, String(d), want);
});

const regSzToVersion = regCompare(['REG_SZ', 'REG_EXPAND_SZ'], (input) => {
  const op = scalarOp(input.attrs.Comparison);
  const want = requireVersion(input.attrs.Data, 'Data');
  return (d) => {
    const v = parseVersion(String(d));
    return v !== undefined && holds(op, cmpVersion(v, want));
  };
});

/**
 * RegKeyLoop: evaluates its child once per subkey of Key\Subkey, with HKEY_LOOP_TARGET naming that subkey,
 * and combines the results with TrueIf = Any | All | None (Kleene: Unknown where the answer depends on it).
 */
const regKeyLoop: RuleCompiler = (input) => {
  const fact = factOf(input);
  const trueIf = input.attrs.TrueIf;
  if (trueIf !== 'Any' && trueIf !== 'All' && trueIf !== 'None')
    throw new Error(`TrueIf ${JSON.stringify(trueIf ?? null)} is not Any, All or None`);
  const child: CompiledNode = input.child ?? (() => U);
  const own32 = input.factArgs[0]![0] === '32';
  return (ctx) => {
    // The subkeys are visited in the view they were listed from: RegType32, or (a loop inside a loop) the outer one's.
    const view = own32 ? '32' : (ctx.loopTarget?.view ?? 'native');
    const k = readFact(ctx, fact, input, (v) => `subkeys ${(v as InventoryRegistryKey).subkeys?.join(', ') ?? 'not collected'}`);
    if (k === NOT_COLLECTED) return U;
    if (k === ABSENT) return trueIf === 'None' || trueIf === 'All' ? T : F;
    const key = k as InventoryRegistryKey;
    if (!key.subkeys) return U;
    const saved = ctx.loopTarget;
    let any: Tri = F;
    let all: Tri = T;
    // The listed key's own text without a trailing backslash (the inventory may write one): `…\Contoso\\Sub` would
    // name an empty step below Contoso, which no complete subkey list holds — a listed subkey read as absent.
    const parent = withoutTrailingBackslash(key.key);
    try {
      for (const sub of key.subkeys) {
        ctx.loopTarget = { view, key: `${parent}\\${sub}` };
        const r = child(ctx);
        any = any === T || r === T ? T : any === U || r === U ? U : F;
        all = all === F || r === F ? F : all === U || r === U ? U : T;
      }
    } finally {
      ctx.loopTarget = saved;
    }
    return trueIf === 'Any' ? any : trueIf === 'All' ? all : any === U ? U : any === T ? F : T;
  };
};

export const FILE_REGISTRY_RULES = {
  FileExists: fileExists,
  FileExistsPrependRegSz: fileExists,
  FileVersion: fileProperty('Version'),
  FileVersionPrependRegSz: fileProperty('Version'),
  FileCreated: fileProperty('Created'),
  FileCreatedPrependRegSz: fileProperty('Created'),
  FileModified: fileProperty('Modified'),
  FileModifiedPrependRegSz: fileProperty('Modified'),
  FileSize: fileProperty('Size'),
  FileSizePrependRegSz: fileProperty('Size'),
  RegKeyExists: regKeyExists,
  RegValueExists: regValueExists,
  RegDword: regDword,
  RegSz: regString,
  RegExpandSz: regString,
  RegSzToVersion: regSzToVersion,
  RegKeyLoop: regKeyLoop,
} satisfies EvaluatorTable;
