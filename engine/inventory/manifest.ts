/**
 * The collection manifest: exactly the facts a catalog's rules ask for, so a collector on a client gathers those
 * and nothing else (`patchscan manifest CATALOG`). Built from the catalog's fact dictionary.
 */
import type { Catalog } from '../catalog/catalog.js';
import { LOOP_TARGET } from '../eval/context.js';

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
  const flags = { os: false, processor: false, cluster: false, msi: false, cbs: false, releases: false };
  for (let f = 0; f < c.data.facts.count; f++) {
    const { kind, args } = c.fact(f);
    counts[kind] = (counts[kind] ?? 0) + 1;
    if (args.some((a) => a.startsWith(LOOP_TARGET))) continue; // covered by the loop's subtree
    switch (kind) {
      case 'os':
      case 'osLanguage':
      case 'muiLanguages':
        flags.os = true;
        break;
      case 'processor':
        flags.processor = true;
        break;
      case 'cluster':
        flags.cluster = true;
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
      case 'msiProduct':
      case 'msiPatch':
      case 'msiFeature':
      case 'msiComponent':
      case 'msiPatchMetadata':
        flags.msi = true;
        break;
      case 'cbsPackage':
        flags.cbs = true;
        break;
      case 'productRelease':
        flags.releases = true;
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
  return {
    schema: MANIFEST_SCHEMA,
    catalog: { sha256: c.data.source.sha256, createdAt: c.data.createdAt, ...(pkg ? { packageCreated: pkg } : {}) },
    os: flags.os,
    processor: flags.processor,
    cluster: flags.cluster,
    csidl: [...csidl].sort((a, b) => Number(a) - Number(b)),
    files: sorted(files),
    filesUnderRegistry: sorted(underReg),
    registryKeys: sorted(keys),
    registrySubtrees: sorted(subtrees),
    wmi: sorted(wmi),
    systemMetrics: [...metrics].sort(),
    licensing: [...lic].sort(),
    deviceAttributes: [...attrs].sort(),
    msiProducts: flags.msi,
    cbsPackages: flags.cbs,
    cbsApplicability: [...cbsApplicability].sort(),
    productReleases: flags.releases,
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
    `  CBS packages             ${yes(m.cbsPackages)}${m.cbsApplicability.length ? `, applicability of ${m.cbsApplicability.length} package(s)` : ''}`,
    `  system metrics           ${m.systemMetrics.join(', ') || 'none'}`,
    `  licensing values         ${m.licensing.length}`,
    `  device attributes        ${m.deviceAttributes.join(', ') || 'none'}`,
    `  product releases         ${yes(m.productReleases)}`,
    '',
    'Give the JSON (--json) to the collector: adapters/collector/Collect-PatchscanInventory.ps1 -Manifest manifest.json',
  ].join('\n');
}
