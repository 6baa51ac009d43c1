/**
 * MSI, CBS, WMI and Windows 10+ release/device rules (reference §3.3, §3.5, §3.6, §3.8).
 */
import { cbsIdentityMatches, normalizeGuid } from '../../inventory/machine.js';
import type { InventoryCbsPackage, InventoryMsiProduct } from '../../inventory/types.js';
import { bool, cmpVersion, holds, parseVersion, requireInt, requireVersion, scalarOp, stringHolds } from '../compare.js';
import { ABSENT, NOT_COLLECTED, factOf, readFact, type LeafInput, type RuleCompiler } from '../leaf.js';
import type { EvalContext } from '../context.js';
import type { EvaluatorTable } from './table.js';
import { F, T, U, triOf, type Tri } from '../tri.js';

type Products = ReadonlyMap<string, InventoryMsiProduct>;
type Matches = readonly InventoryCbsPackage[];

/**
 * Optional VersionMin/Max (with Exclude…) and Language filters of the MSI rules, in Kleene logic: a filter whose
 * property was not collected is Unknown, unless another filter already fails.
 */
function productFilter(a: Readonly<Record<string, string>>): (p: InventoryMsiProduct) => Tri {
  const min = a.VersionMin !== undefined ? requireVersion(a.VersionMin, 'VersionMin') : undefined;
  const max = a.VersionMax !== undefined ? requireVersion(a.VersionMax, 'VersionMax') : undefined;
  const exMin = bool(a.ExcludeVersionMin, 'ExcludeVersionMin');
  const exMax = bool(a.ExcludeVersionMax, 'ExcludeVersionMax');
  const lang = a.Language !== undefined ? requireInt(a.Language, 'Language') : undefined;
  return (p) => {
    let r: Tri = T;
    if (min || max) {
      const v = parseVersion(p.version);
      if (!v) r = U;
      else if (min && (exMin ? cmpVersion(v, min) <= 0 : cmpVersion(v, min) < 0)) return F;
      else if (max && (exMax ? cmpVersion(v, max) >= 0 : cmpVersion(v, max) > 0)) return F;
    }
    if (lang !== undefined) {
      if (p.language === undefined) r = U;
      else if (p.language !== lang) return F;
    }
    return r;
  };
}

const productsText = (v: unknown): string => `${(v as Products).size} MSI products`;

/** The installed product `code`, or the rule's answer without one: Unknown (not collected) or False (absent). */
function installedProduct(
  ctx: Parameters<ReturnType<RuleCompiler>>[0],
  fact: number,
  input: Parameters<RuleCompiler>[0],
  code: string,
  show: (v: unknown) => string,
): InventoryMsiProduct | typeof F | typeof U {
  const ps = readFact(ctx, fact, input, show);
  if (ps === NOT_COLLECTED) return U;
  return (ps as Products).get(code) ?? F;
}

const msiProductInstalled: RuleCompiler = (input) => {
  const fact = factOf(input);
  const code = normalizeGuid(input.attrs.ProductCode ?? '');
  const filter = productFilter(input.attrs);
  const show = (v: unknown): string => {
    const p = (v as Products).get(code);
    return p ? `installed, version ${p.version ?? '?'}, language ${p.language ?? '?'}` : 'not installed';
  };
  return (ctx) => {
    const p = installedProduct(ctx, fact, input, code, show);
    return typeof p === 'number' ? p : filter(p);
  };
};

/** MsiFeature/ComponentInstalledForProduct: one (or all) of the products has one (or all) of the items. */
function itemsForProduct(itemTag: 'Feature' | 'Component', field: 'features' | 'components', allItemsAttr: string): RuleCompiler {
  return (input) => {
    const fact = factOf(input);
    const products = input.items
      .filter((i) => i.tag === 'Product')
      .map((i) => normalizeGuid(i.attrs.ProductCode ?? i.attrs.Code ?? i.text ?? ''));
    const items = input.items
      .filter((i) => i.tag === itemTag)
      .map((i) => (i.attrs.Name ?? i.attrs.ComponentCode ?? i.attrs.Code ?? i.text ?? '').toLowerCase());
    if (products.length === 0 || items.length === 0) throw new Error(`needs at least one Product and one ${itemTag}`);
    const allItems = bool(input.attrs[allItemsAttr], allItemsAttr);
    const allProducts = bool(input.attrs.AllProductsRequired, 'AllProductsRequired');
    return (ctx) => {
      const ps = readFact(ctx, fact, input, productsText);
      if (ps === NOT_COLLECTED) return U;
      const results = products.map((code) => {
        const p = (ps as Products).get(code);
        if (!p) return F;
        const have = p[field];
        if (!have) return U;
        const lower = have.map((h) => h.toLowerCase().replace(/^\{|\}$/g, ''));
        const hits = items.map((it) => lower.includes(it.replace(/^\{|\}$/g, '')));
        return triOf(allItems ? hits.every(Boolean) : hits.some(Boolean));
      });
      if (allProducts) return results.includes(F) ? F : results.includes(U) ? U : T;
      return results.includes(T) ? T : results.includes(U) ? U : F;
    };
  };
}

const msiPatchInstalledForProduct: RuleCompiler = (input) => {
  const fact = factOf(input);
  const patch = normalizeGuid(input.attrs.PatchCode ?? '');
  const code = normalizeGuid(input.attrs.ProductCode ?? '');
  const filter = productFilter(input.attrs);
  const show = (v: unknown): string => {
    const p = (v as Products).get(code);
    if (!p) return 'product not installed';
    const patches = p.patches === undefined ? 'not collected' : p.patches.length === 0 ? 'none' : p.patches.join(', ');
    return `product installed; patches ${patches}`;
  };
  return (ctx) => {
    const p = installedProduct(ctx, fact, input, code, show);
    if (typeof p === 'number') return p;
    const ok = filter(p);
    if (ok === F) return F;
    const has = ctx.machine.hasPatch(p, patch);
    if (has === undefined) return U;
    return has ? ok : F;
  };
};

/** MsiPatchInstalled (metadata): the patch is applied to any installed product. */
const msiPatchInstalled: RuleCompiler = (input) => {
  const fact = factOf(input);
  const patch = normalizeGuid(input.meta?.attrs.PatchCode ?? '');
  if (!patch) throw new Error('the update carries no MsiPatchMetadata with a PatchCode');
  return (ctx) => {
    const ps = readFact(ctx, fact, input, productsText);
    if (ps === NOT_COLLECTED) return U;
    let unknown = false;
    for (const p of (ps as Products).values()) {
      const has = ctx.machine.hasPatch(p, patch);
      if (has === undefined) unknown = true;
      else if (has) return T;
    }
    return unknown ? U : F;
  };
};

const msiApplicationInstalled: RuleCompiler = (input) => {
  const fact = factOf(input);
  const code = normalizeGuid(input.meta?.attrs.ProductCode ?? '');
  if (!code) throw new Error('the update carries no MsiApplicationMetadata with a ProductCode');
  return (ctx) => {
    const ps = readFact(ctx, fact, input, productsText);
    return ps === NOT_COLLECTED ? U : triOf((ps as Products).has(code));
  };
};

/** The machine's packages matching a rule's identity, for reasons. */
const showMatches = (v: unknown): string =>
  (v as Matches).length ? (v as Matches).map((p) => `${p.identity} ${p.state}`).join(', ') : 'not present';

/** A CBS package counts as installed in state Installed, or Superseded (a newer package replaced it). */
const CBS_INSTALLED = new Set(['installed', 'superseded']);

/**
 * CbsPackageInstalled's answer from its fact's value: the list of the machine's packages matching the rule's identity
 * (resolved once per machine). The rule's closure and its numbered form (program.ts) both answer by it.
 */
export function cbsInstalledOf(hits: unknown): Tri {
  if (hits === NOT_COLLECTED) return U;
  for (const p of hits as Matches) if (CBS_INSTALLED.has(p.state.toLowerCase())) return T;
  return F;
}

/** The CBS identity of a CbsPackageInstalled rule (its update's metadata) or a CbsPackageInstalledByIdentity rule. */
export const CBS_IDENTITY = {
  CbsPackageInstalled: (meta: LeafInput['meta'], _attrs: LeafInput['attrs']): string => meta?.attrs.identity ?? '',
  CbsPackageInstalledByIdentity: (_meta: LeafInput['meta'], attrs: LeafInput['attrs']): string => attrs.PackageIdentity ?? '',
} as const;
export const NO_CBS_IDENTITY = 'no CBS package identity (attribute or CbsPackageApplicabilityMetadata)';

function cbsInstalled(identityOf: (typeof CBS_IDENTITY)[keyof typeof CBS_IDENTITY]): RuleCompiler {
  return (input) => {
    const fact = factOf(input);
    if (!identityOf(input.meta, input.attrs)) throw new Error(NO_CBS_IDENTITY);
    return (ctx) => cbsInstalledOf(readFact(ctx, fact, input, showMatches));
  };
}

const CBS_ARCH: Readonly<Record<string, number>> = { x86: 0, amd64: 9, ia64: 6, arm64: 12, arm: 5 };

/**
 * Releases that run another release's packages: an enablement package raises the build Windows reports, not the
 * build of the packages it is serviced with (Windows 10 22H2 reports 19045 and installs 19041.x rollups; they share
 * the UBR). Maps a reported build to the build of its packages; builds not listed are serviced by their own.
 */
const SERVICING_BUILD: Readonly<Record<number, number>> = {
  18363: 18362, // Windows 10 1909 on 1903
  19042: 19041,
  19043: 19041,
  19044: 19041,
  19045: 19041, // Windows 10 20H2 … 22H2 on 2004
  22631: 22621, // Windows 11 23H2 on 22H2
  26200: 26100, // Windows 11 25H2 on 24H2
};
const servicingBuild = (build: number): number => SERVICING_BUILD[build] ?? build;

/** CBS states of the package itself that decide its applicability without DISM (see cbsInstallable). */
const APPLIES_WHEN: Readonly<Record<string, boolean>> = { installed: true, superseded: false };

/** What a CbsPackageInstallable rule reads of its update's package identity, parsed once. */
export interface CbsInstallableRule {
  readonly id: string;
  readonly wantArch: number | undefined;
  readonly build: number | undefined;
  readonly revision: number | undefined;
  readonly rollup: boolean;
  /** The fact its readings name (built once here: the rule is evaluated on every machine). */
  readonly what: string;
}

/** A CbsPackageInstallable rule's identity (its update's metadata) parsed; throws when the update carries none. */
export function cbsInstallableRule(meta: LeafInput['meta']): CbsInstallableRule {
  const id = meta?.attrs.identity ?? '';
  if (!id) throw new Error('the update carries no CbsPackageApplicabilityMetadata');
  const [name, , arch, , version] = id.toLowerCase().split('~');
  const bu = version !== undefined ? /^(\d{4,5})\.(\d+)\./.exec(version) : null;
  return {
    id,
    wantArch: arch !== undefined ? CBS_ARCH[arch] : undefined,
    build: bu ? Number(bu[1]) : undefined,
    revision: bu ? Number(bu[2]) : undefined,
    rollup: name === 'package_for_rollupfix',
    what: `CBS applicability of ${id}`,
  };
}

/**
 * CbsPackageInstallable: the package's own applicability, which DISM on the machine knows (`cbs.applicable`).
 * Without it (INFERRED, docs/semantics.md "CbsPackageInstallable without DISM data"):
 * - the package itself listed Installed applies (CBS applicability of an installed package; Windows re-offers it
 *   when asked to, LCUReoffer), listed Superseded does not (a newer package replaced it);
 * - a package for another architecture, or for another build (after {@link SERVICING_BUILD}), does not apply;
 * - a cumulative update `Package_for_RollupFix` of version B.U… applies on build B while the machine's UBR is below
 *   U, and not once it is U or more (that revision, or a later one, is installed); UBR not collected → Unknown;
 * - any other package of the machine's build and architecture: Unknown (nothing says whether the machine is past it).
 *
 * The answer on the machine of `ctx` from the rule's fact's value `ps` (the machine's packages matching the identity):
 * the rule's closure and its numbered form (program.ts) both answer by it.
 */
export function cbsInstallableOf(ctx: EvalContext, ps: unknown, r: CbsInstallableRule): Tri {
  if (ps === NOT_COLLECTED) return U;
  const { id, wantArch, build, revision, rollup, what } = r;
  const app = ctx.machine.inv.cbs?.applicable;
  const key = app && Object.keys(app).find((k) => cbsIdentityMatches(id, k));
  if (key !== undefined) {
    ctx.read(() => ({ fact: what, value: String(app![key]) }));
    return triOf(app![key] === true);
  }
  for (const p of ps as Matches) {
    const applies = APPLIES_WHEN[p.state.toLowerCase()];
    if (applies === undefined) continue;
    ctx.read(() => ({ fact: what, value: `inferred ${applies} from the package's own state ${p.state}` }));
    return triOf(applies);
  }
  const os = ctx.machine.inv.os;
  const cpu = ctx.machine.inv.processor;
  if (wantArch === undefined || build === undefined || !os || !cpu) {
    const why =
      wantArch === undefined || build === undefined
        ? 'its identity names no known architecture or build.revision version'
        : 'OS or processor not collected';
    ctx.read(() => ({ fact: what, value: `not inferable: ${why}` }));
    return U;
  }
  // The readings' texts are built only when a reason is asked for (inside the closures): this leaf is evaluated
  // for every CBS package of a catalog on every machine.
  if (cpu.architecture !== wantArch || servicingBuild(os.build) !== servicingBuild(build)) {
    ctx.read(() => ({
      fact: what,
      value:
        `inferred false: the package is for build ${build} architecture ${wantArch}, ` +
        `the machine is build ${os.build} architecture ${cpu.architecture}`,
    }));
    return F;
  }
  if (!rollup || os.ubr === undefined) {
    ctx.read(() => ({
      fact: what,
      value: rollup
        ? `not inferable: the machine's UBR was not collected (the package is ${build}.${revision})`
        : 'not inferable: not a cumulative update (its revision is not the UBR)',
    }));
    return U;
  }
  const ubr = os.ubr;
  const applies = ubr < revision!;
  ctx.read(() => ({
    fact: what,
    value: `inferred ${applies} from OS ${os.build}.${ubr} ${applies ? 'below' : 'at or past'} the package's ${build}.${revision}`,
  }));
  return triOf(applies);
}

const cbsInstallable: RuleCompiler = (input) => {
  const fact = factOf(input);
  const rule = cbsInstallableRule(input.meta);
  return (ctx) => cbsInstallableOf(ctx, readFact(ctx, fact, input, showMatches), rule);
};

const showInstances = (v: unknown): string => `${v as number} instance(s)`;
const wmiQuery: RuleCompiler = (input) => {
  const fact = factOf(input);
  return (ctx) => {
    const n = readFact(ctx, fact, input, showInstances);
    return n === NOT_COLLECTED ? U : triOf((n as number) > 0);
  };
};

type Release = { name: string; version: string };

/** ProductReleaseInstalled: a release of that name is installed at Version or later (reference §3.8; inferred). */
const productReleaseInstalled: RuleCompiler = (input) => {
  const fact = factOf(input);
  const name = (input.attrs.Name ?? '').toLowerCase();
  const version = input.attrs.Version !== undefined ? requireVersion(input.attrs.Version, 'Version') : undefined;
  return (ctx) => {
    const rs = readFact(
      ctx,
      fact,
      input,
      (v) =>
        (v as Release[])
          .filter((r) => r.name.toLowerCase() === name)
          .map((r) => `${r.name} ${r.version}`)
          .join(', ') || 'not installed',
    );
    if (rs === NOT_COLLECTED) return U;
    const hit = (rs as Release[]).filter((r) => r.name.toLowerCase() === name);
    if (hit.length === 0) return F;
    if (!version) return T;
    return triOf(
      hit.some((r) => {
        const v = parseVersion(r.version);
        return v !== undefined && cmpVersion(v, version) >= 0;
      }),
    );
  };
};

const productReleaseVersion: RuleCompiler = (input) => {
  const fact = factOf(input);
  const name = (input.attrs.Name ?? '').toLowerCase();
  const op = scalarOp(input.attrs.Comparison, 'EqualTo');
  const version = requireVersion(input.attrs.Version, 'Version');
  return (ctx) => {
    const rs = readFact(ctx, fact, input, (v) => (v as Release[]).map((r) => `${r.name} ${r.version}`).join(', '));
    if (rs === NOT_COLLECTED) return U;
    const hit = (rs as Release[]).find((r) => r.name.toLowerCase() === name);
    if (!hit) return F;
    const v = parseVersion(hit.version);
    return v ? triOf(holds(op, cmpVersion(v, version))) : F;
  };
};

/** DeviceAttribute Name Type(String|Version) Comparison Value. */
const deviceAttribute: RuleCompiler = (input) => {
  const fact = factOf(input);
  const type = input.attrs.Type ?? 'String';
  const cmpText = input.attrs.Comparison;
  const want = input.attrs.Value ?? '';
  if (type === 'Version') {
    const op = scalarOp(cmpText);
    const wv = requireVersion(want, 'Value');
    return (ctx) => {
      const v = readFact(ctx, fact, input);
      if (v === NOT_COLLECTED) return U;
      if (v === ABSENT) return F;
      const have = parseVersion(String(v));
      return have ? triOf(holds(op, cmpVersion(have, wv))) : F;
    };
  }
  if (type !== 'String') throw new Error(`Type ${JSON.stringify(type)} is not String or Version`);
  const op = cmpText === 'EqualTo' || cmpText === 'BeginsWith' || cmpText === 'Contains' || cmpText === 'EndsWith' ? cmpText : undefined;
  if (!op) throw new Error(`Comparison ${JSON.stringify(cmpText ?? null)} is not a string comparison`);
  return (ctx) => {
    const v = readFact(ctx, fact, input);
    if (v === NOT_COLLECTED) return U;
    if (v === ABSENT) return F;
    return triOf(stringHolds(op, String(v), want));
  };
};

export const PACKAGE_RULES = {
  MsiProductInstalled: msiProductInstalled,
  MsiFeatureInstalledForProduct: itemsForProduct('Feature', 'features', 'AllFeaturesRequired'),
  MsiComponentInstalledForProduct: itemsForProduct('Component', 'components', 'AllComponentsRequired'),
  MsiPatchInstalledForProduct: msiPatchInstalledForProduct,
  MsiPatchInstalled: msiPatchInstalled,
  MsiApplicationInstalled: msiApplicationInstalled,
  CbsPackageInstalledByIdentity: cbsInstalled(CBS_IDENTITY.CbsPackageInstalledByIdentity),
  CbsPackageInstalled: cbsInstalled(CBS_IDENTITY.CbsPackageInstalled),
  CbsPackageInstallable: cbsInstallable,
  WmiQuery: wmiQuery,
  ProductReleaseInstalled: productReleaseInstalled,
  ProductReleaseVersion: productReleaseVersion,
  DeviceAttribute: deviceAttribute,
} satisfies EvaluatorTable;
