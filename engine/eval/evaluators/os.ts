/**
 * OS, language, processor and machine rules (reference §3.3, §3.4, §3.9).
 */
import type { InventoryOs, InventoryProcessor } from '../../inventory/types.js';
import { bool, cmpNum, holds, requireInt, requireUint32, RuleDataError, scalarOp, type ScalarComparison } from '../compare.js';
import { NOT_COLLECTED, factOf, readFact, type RuleCompiler } from '../leaf.js';
import type { EvaluatorTable } from './table.js';
import { F, T, U, triOf, type Tri } from '../tri.js';

const osText = (v: unknown): string => {
  const o = v as InventoryOs;
  return (
    `${o.major}.${o.minor}.${o.build}${o.ubr !== undefined ? `.${o.ubr}` : ''} SP` +
    `${o.spMajor ?? 0}.${o.spMinor ?? 0} type ${o.productType} suites 0x` +
    `${(o.suiteMask ?? 0).toString(16)}`
  );
};

// The `os` fields these rules compare are listed in rules/reads.ts (OS_FIELDS_READ): a new one must be added there.

/**
 * WindowsVersion = Win32 VerifyVersionInfo: Major, Minor, ServicePackMajor, ServicePackMinor (those given) are
 * compared hierarchically — the first that differs decides, and when all are equal the comparison is applied to
 * "equal"; BuildNumber is compared on its own with the same Comparison; ProductType is an equality test; SuiteMask
 * requires all (AllSuitesMustBePresent) or any of its bits. (Reference §3.4; Wine/ReactOS RtlVerifyVersionInfo.)
 */
const windowsVersion: RuleCompiler = (input) => {
  const fact = factOf(input);
  const a = input.attrs;
  const op: ScalarComparison = scalarOp(a.Comparison, 'EqualTo');
  const tuple: [keyof InventoryOs, number][] = [];
  for (const [attr, field] of [
    ['MajorVersion', 'major'],
    ['MinorVersion', 'minor'],
    ['ServicePackMajor', 'spMajor'],
    ['ServicePackMinor', 'spMinor'],
  ] as const) {
    if (a[attr] !== undefined) tuple.push([field, requireUint32(a[attr], attr)]);
  }
  // The schema's unsigned numbers: a negative one names no Windows there is (MajorVersion="-1"), so it is bad data.
  const build = a.BuildNumber !== undefined ? requireUint32(a.BuildNumber, 'BuildNumber') : undefined;
  const productType = a.ProductType !== undefined ? requireUint32(a.ProductType, 'ProductType') : undefined;
  const suiteMask = a.SuiteMask !== undefined ? requireUint32(a.SuiteMask, 'SuiteMask') : undefined;
  const allSuites = bool(a.AllSuitesMustBePresent, 'AllSuitesMustBePresent');
  return (ctx) => {
    const os = readFact(ctx, fact, input, osText);
    if (os === NOT_COLLECTED) return U;
    const o = os as InventoryOs;
    if (tuple.length > 0) {
      let c = 0;
      for (const [field, want] of tuple) {
        c = cmpNum((o[field] as number | undefined) ?? 0, want);
        if (c !== 0) break;
      }
      if (!holds(op, c)) return F;
    }
    if (build !== undefined && !holds(op, cmpNum(o.build, build))) return F;
    if (productType !== undefined && o.productType !== productType) return F;
    if (suiteMask !== undefined) {
      if (o.suiteMask === undefined) return U;
      const have = o.suiteMask & suiteMask;
      if (allSuites ? have !== suiteMask : have === 0) return F;
    }
    return T;
  };
};

/** `Language` matches the install language exactly, or its primary subtag when the rule gives no region. */
function languageMatches(installed: string, wanted: string): boolean {
  const i = installed.toLowerCase();
  const w = wanted.toLowerCase();
  return i === w || (!w.includes('-') && i.split('-')[0] === w);
}

/** SystemMetric and LicenseDword: compare a number the machine reports; collected as not set (null) → False. */
function numberCompare(dataAttr: 'Value' | 'Data'): RuleCompiler {
  return (input) => {
    const fact = factOf(input);
    const op = scalarOp(input.attrs.Comparison);
    const want = requireInt(input.attrs[dataAttr], dataAttr);
    return (ctx) => {
      const v = readFact(ctx, fact, input);
      if (v === NOT_COLLECTED) return U;
      if (typeof v !== 'number') return F;
      return triOf(holds(op, cmpNum(v, want)));
    };
  };
}

export const OS_RULES = {
  WindowsVersion: windowsVersion,
  PlatformVersion: windowsVersion,
  Platform: (input) => {
    const fact = factOf(input);
    // PlatformID 2 = VER_PLATFORM_WIN32_NT, the only platform an inventory can come from.
    const id = requireInt(input.attrs.PlatformID, 'PlatformID');
    return (ctx) => (readFact(ctx, fact, input, osText) === NOT_COLLECTED ? U : triOf(id === 2));
  },
  WindowsLanguage: (input) => {
    const fact = factOf(input);
    // Required by the schema: without it the rule names no language, and "not this machine's" would be a guess.
    if (input.attrs.Language === undefined) throw new RuleDataError('Language is missing');
    const lang = input.attrs.Language;
    return (ctx) => {
      const os = readFact(
        ctx,
        fact,
        input,
        (v) =>
          `install language ${(v as InventoryOs).installLanguage ?? 'not collected'}, MUI ` +
          `${(v as InventoryOs).muiInstalled ?? 'not collected'}`,
      );
      if (os === NOT_COLLECTED) return U;
      const o = os as InventoryOs;
      // "Always returns false if the Windows Multilanguage User Interface (MUI) is installed."
      if (o.muiInstalled === true) return F;
      if (o.installLanguage === undefined || o.muiInstalled === undefined) return U;
      return triOf(languageMatches(o.installLanguage, lang));
    };
  },
  MuiInstalled: (input) => {
    const fact = factOf(input);
    return (ctx) => {
      const os = readFact(ctx, fact, input, (v) => `MUI ${(v as InventoryOs).muiInstalled ?? 'not collected'}`);
      if (os === NOT_COLLECTED || (os as InventoryOs).muiInstalled === undefined) return U;
      return triOf((os as InventoryOs).muiInstalled === true);
    };
  },
  MuiLanguageInstalled: (input) => {
    const fact = factOf(input);
    const lang = input.attrs.Language ?? '';
    return (ctx) => {
      const os = readFact(ctx, fact, input, (v) => `MUI languages ${(v as InventoryOs).uiLanguages?.join(', ') ?? 'not collected'}`);
      if (os === NOT_COLLECTED) return U;
      const o = os as InventoryOs;
      if (o.muiInstalled === false) return F;
      if (o.muiInstalled === undefined || o.uiLanguages === undefined) return U;
      return triOf(o.uiLanguages.some((l) => languageMatches(l, lang)));
    };
  },
  Processor: (input) => {
    const fact = factOf(input);
    const arch = requireInt(input.attrs.Architecture, 'Architecture');
    const level = input.attrs.Level !== undefined ? requireInt(input.attrs.Level, 'Level') : undefined;
    const revision = input.attrs.Revision !== undefined ? requireInt(input.attrs.Revision, 'Revision') : undefined;
    return (ctx) => {
      // Show only what this rule compares (reasons depend only on what rules read).
      const p = readFact(ctx, fact, input, (v) => {
        const pr = v as InventoryProcessor;
        return (
          `architecture ${pr.architecture}` +
          `${level !== undefined ? `, level ${pr.level ?? 'not collected'}` : ''}` +
          `${revision !== undefined ? `, revision ${pr.revision ?? 'not collected'}` : ''}`
        );
      });
      if (p === NOT_COLLECTED) return U;
      const pr = p as InventoryProcessor;
      if (pr.architecture !== arch) return F;
      let r: Tri = T;
      if (level !== undefined) r = pr.level === undefined ? U : pr.level === level ? r : F;
      if (r !== F && revision !== undefined) r = pr.revision === undefined ? U : pr.revision === revision ? r : F;
      return r;
    };
  },
  NumberOfProcessors: (input) => {
    const fact = factOf(input);
    const op = scalarOp(input.attrs.Comparison);
    const n = requireInt(input.attrs.Number, 'Number');
    return (ctx) => {
      const p = readFact(ctx, fact, input, (v) => `${(v as InventoryProcessor).count ?? 'unknown'} processors`);
      if (p === NOT_COLLECTED || (p as InventoryProcessor).count === undefined) return U;
      return triOf(holds(op, cmpNum((p as InventoryProcessor).count!, n)));
    };
  },
  SystemMetric: numberCompare('Value'),
  ClusteredOS: (input) => {
    const fact = factOf(input);
    return (ctx) => {
      const c = readFact(ctx, fact, input, (v) => `clustered ${(v as { clustered: boolean }).clustered}`);
      return c === NOT_COLLECTED ? U : triOf((c as { clustered: boolean }).clustered);
    };
  },
  LicenseDword: numberCompare('Data'),
} satisfies EvaluatorTable;
