/**
 * The collection manifest: exactly the facts a catalog's rules ask for, so a collector on a client gathers those
 * and nothing else (`patchscan manifest CATALOG`). Built from the catalog's fact dictionary and rule types: which
 * inventory sections it asks for is what rules/reads.ts says they read (FACT_SECTIONS per fact kind, RULE_READS per
 * rule type) — a registry rule asks for the processor, which picks its 32/64-bit view — and the items it lists (files,
 * keys, queries…) are the facts' own. MANIFEST_SECTIONS says how the manifest asks for each section
 * (test/engine/manifest.test.ts holds the two to each other).
 */
import type { Catalog } from '../catalog/catalog.js';
import { RULE_OP_BASE } from '../catalog/data.js';
import { LOOP_TARGET } from './context.js';
import { FACT_SECTIONS, ruleReads, type InventorySection } from '../rules/reads.js';

export const MANIFEST_SCHEMA = 'patchscan-manifest/1';

export interface Manifest {
  readonly schema: typeof MANIFEST_SCHEMA;
  readonly catalog: { readonly sha256: string; readonly createdAt: string; readonly packageCreated?: string };
  readonly os: boolean;
  readonly processor: boolean;
  readonly cluster: boolean;
  /** CSIDL folders to resolve. */
  readonly csidl: readonly string[];
  /** Files under a CSIDL folder: existence, version, size, dates, language. */
  readonly files: readonly { readonly csidl: string; readonly path: string }[];
  /** Files under a folder named by a registry string value. */
  readonly filesUnderRegistry: readonly { readonly view: string; readonly key: string; readonly value: string; readonly path: string }[];
  /** Registry keys: existence, all values, subkey names. */
  readonly registryKeys: readonly { readonly view: string; readonly key: string }[];
  /** Registry keys whose subkeys (and their values) RegKeyLoop rules iterate. */
  readonly registrySubtrees: readonly { readonly view: string; readonly key: string }[];
  readonly wmi: readonly { readonly namespace: string; readonly query: string }[];
  readonly systemMetrics: readonly string[];
  readonly licensing: readonly string[];
  readonly deviceAttributes: readonly string[];
  readonly msiProducts: boolean;
  readonly cbsPackages: boolean;
  /** CBS packages whose applicability (DISM) CbsPackageInstallable rules need. */
  readonly cbsApplicability: readonly string[];
  readonly productReleases: boolean;
  /** Facts per kind, for a summary. */
  readonly counts: Readonly<Record<string, number>>;
}

/**
 * How a manifest asks a collector for each inventory section (a Record: a section added to rules/reads.ts must say
 * it, or this does not compile). The collector (adapters/collector) writes a section when its field asks for it.
 */
export const MANIFEST_SECTIONS: Readonly<Record<InventorySection, (m: Manifest) => boolean>> = {
  os: (m) => m.os,
  osRevision: (m) => m.os, // the UBR is collected with the rest of the OS section
  processor: (m) => m.processor,
  cluster: (m) => m.cluster,
  // The collector writes the CSIDL folders it resolved whenever it reads files (an empty map for absolute paths).
  csidl: (m) => m.csidl.length > 0 || m.files.length > 0,
  files: (m) => m.files.length > 0 || m.filesUnderRegistry.length > 0,
  registry: (m) => m.registryKeys.length > 0 || m.registrySubtrees.length > 0 || m.filesUnderRegistry.length > 0,
  wmi: (m) => m.wmi.length > 0,
  licensing: (m) => m.licensing.length > 0,
  systemMetrics: (m) => m.systemMetrics.length > 0,
  deviceAttributes: (m) => m.deviceAttributes.length > 0,
  productReleases: (m) => m.productReleases,
  cbs: (m) => m.cbsPackages,
  msi: (m) => m.msiProducts,
};

/** The inventory sections a manifest asks a collector for. */
export function manifestSections(m: Manifest): Set<InventorySection> {
  return new Set((Object.keys(MANIFEST_SECTIONS) as InventorySection[]).filter((s) => MANIFEST_SECTIONS[s](m)));
}

/** The inventory sections a catalog's rules read (rules/reads.ts): their facts' sections and their types' own. */
export function sectionsRead(c: Catalog): Set<InventorySection> {
  const read = new Set<InventorySection>();
  for (let f = 0; f < c.data.facts.count; f++) for (const s of FACT_SECTIONS[c.fact(f).kind]) read.add(s);
  const types = new Set<number>();
  for (let n = 0; n < c.data.nodes.count; n++) if (c.data.nodes.op[n]! >= RULE_OP_BASE) types.add(c.data.nodes.op[n]!);
  for (const op of types) for (const s of ruleReads(c.data.ruleTypes[op - RULE_OP_BASE] ?? '').sections ?? []) read.add(s);
  return read;
}

export function buildManifest(c: Catalog): Manifest {
  const keys = new Map<string, { view: string; key: string }>();
  const subtrees = new Map<string, { view: string; key: string }>();
  const files = new Map<string, { csidl: string; path: string }>();
  const underReg = new Map<string, { view: string; key: string; value: string; path: string }>();
  const wmi = new Map<string, { namespace: string; query: string }>();
  const csidl = new Set<string>();
  const metrics = new Set<string>();
  const lic = new Set<string>();
  const attrs = new Set<string>();
  const counts: Record<string, number> = {};
  for (let f = 0; f < c.data.facts.count; f++) {
    const { kind, args } = c.fact(f);
    counts[kind] = (counts[kind] ?? 0) + 1;
    if (args.some((a) => a.startsWith(LOOP_TARGET))) continue; // covered by the loop's subtree
    // The items each kind asks for; whole sections (OS, processor, MSI…) come from sectionsRead below.
    switch (kind) {
      case 'os':
      case 'osLanguage':
      case 'muiLanguages':
      case 'processor':
      case 'cluster':
      case 'msiProduct':
      case 'msiPatch':
      case 'msiFeature':
      case 'msiComponent':
      case 'msiPatchMetadata':
      case 'cbsPackage':
      case 'productRelease':
        break;
      case 'file':
        if (args[0]) csidl.add(args[0]);
        files.set(`${args[0]}|${args[1]}`, { csidl: args[0]!, path: args[1]! });
        break;
      case 'fileUnderRegSz':
        underReg.set(args.join('|'), { view: args[0]!, key: args[1]!, value: args[2]!, path: args[3]! });
        keys.set(`${args[0]}|${args[1]}`, { view: args[0]!, key: args[1]! });
        break;
      case 'regKey':
      case 'regValue':
        keys.set(`${args[0]}|${args[1]}`, { view: args[0]!, key: args[1]! });
        break;
      case 'regSubtree':
        subtrees.set(`${args[0]}|${args[1]}`, { view: args[0]!, key: args[1]! });
        break;
      case 'wmi':
        wmi.set(`${args[0]}|${args[1]}`, { namespace: args[0]!, query: args[1]! });
        break;
      case 'systemMetric':
        metrics.add(args[0]!);
        break;
      case 'licenseDword':
        lic.add(args[0]!);
        break;
      case 'deviceAttribute':
        attrs.add(args[0]!);
        break;
      // No collector gathers these yet (rules/reads.ts): their rules are Unknown everywhere, nothing to ask for.
      case 'genericQuery':
      case 'driver':
      case 'appxPackage':
      case 'hardware':
        break;
      default: {
        const unhandled: never = kind; // a fact kind added to rules/facts.ts must say what a collector gathers
        void unhandled;
      }
    }
  }
  // CbsPackageInstallable rules read applicability for their update's package identity.
  const cbsApplicability = new Set<string>();
  for (let u = 0; u < c.size; u++) {
    const m = c.metadata(u);
    if (m?.element === 'CbsPackageApplicabilityMetadata' && m.attrs.identity) cbsApplicability.add(m.attrs.identity);
  }
  const sorted = <T>(m: Map<string, T>): T[] => [...m.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([, v]) => v);
  const pkg = c.data.source.package?.creationDate;
  const read = sectionsRead(c);
  return {
    schema: MANIFEST_SCHEMA,
    catalog: { sha256: c.data.source.sha256, createdAt: c.data.createdAt, ...(pkg ? { packageCreated: pkg } : {}) },
    os: read.has('os') || read.has('osRevision'),
    processor: read.has('processor'),
    cluster: read.has('cluster'),
    csidl: [...csidl].sort((a, b) => Number(a) - Number(b)),
    files: sorted(files),
    filesUnderRegistry: sorted(underReg),
    registryKeys: sorted(keys),
    registrySubtrees: sorted(subtrees),
    wmi: sorted(wmi),
    systemMetrics: [...metrics].sort(),
    licensing: [...lic].sort(),
    deviceAttributes: [...attrs].sort(),
    msiProducts: read.has('msi'),
    cbsPackages: read.has('cbs'),
    cbsApplicability: [...cbsApplicability].sort(),
    productReleases: read.has('productReleases'),
    counts,
  };
}

export function formatManifest(m: Manifest): string {
  const yes = (b: boolean): string => (b ? 'yes' : 'no');
  return [
    `Collection manifest for catalog ${m.catalog.sha256.slice(0, 16)}… (compiled ${m.catalog.createdAt})`,
    `  OS version/language      ${yes(m.os)}`,
    `  processor                ${yes(m.processor)}`,
    `  CSIDL folders            ${m.csidl.join(', ') || 'none'}`,
    `  files                    ${m.files.length} under CSIDL folders, ${m.filesUnderRegistry.length} under registry-named folders`,
    `  registry keys            ${m.registryKeys.length} (values and subkey names), ${m.registrySubtrees.length} subtrees for RegKeyLoop`,
    `  WMI queries              ${m.wmi.length}`,
    `  MSI products             ${yes(m.msiProducts)}`,
    `  CBS packages             ${yes(m.cbsPackages)}` +
      `${m.cbsApplicability.length ? `, applicability of ${m.cbsApplicability.length} package(s)` : ''}`,
    `  system metrics           ${m.systemMetrics.join(', ') || 'none'}`,
    `  licensing values         ${m.licensing.length}`,
    `  device attributes        ${m.deviceAttributes.join(', ') || 'none'}`,
    `  product releases         ${yes(m.productReleases)}`,
    '',
    'Give the JSON (--json) to the collector: adapters/collector/Collect-PatchscanInventory.ps1 -Manifest manifest.json',
  ].join('\n');
}
