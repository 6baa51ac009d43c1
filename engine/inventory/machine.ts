/**
 * One inventory indexed for rule evaluation: case-insensitive maps built once per machine, so each fact a rule
 * asks for is one lookup. Every lookup answers either a value, ABSENT (collected: not there) or NOT_COLLECTED.
 */
import type {
  Inventory,
  InventoryCbsPackage,
  InventoryFile,
  InventoryMsiProduct,
  InventoryRegistryKey,
  InventoryRegistryValue,
  RegistryView,
} from './types.js';

export const NOT_COLLECTED = Symbol('not collected');
export const ABSENT = Symbol('absent');
export type Lookup<T> = T | typeof NOT_COLLECTED | typeof ABSENT;

const lower = (s: string): string => s.toLowerCase();
/** A GUID as machines and rules are matched by (catalog files' prepared leaves store MSI codes so: eval/leaf-scheme.ts). */
export const normalizeGuid = (s: string): string =>
  s
    .trim()
    .replace(/^\{|\}$/g, '')
    .toLowerCase();

/**
 * CBS identities are `name~publicKeyToken~architecture~language~version` (lower-cased, split on `~`); either side — a
 * rule's identity or an inventory's — may be the short form `name~version` (`InternetExplorer-Package~11.2.9600.16428`).
 * Parts are compared position by position over the five-part form; a part matches when it is equal, when the rule
 * leaves it empty (any), or when the side that gave the short form does not state it (token, architecture, language).
 * An empty part of a five-part inventory identity is a value (the neutral language), not a wildcard.
 */
type CbsParts = readonly (string | undefined)[];

/** The five parts of an identity; `undefined` for the parts a short `name~version` identity does not state. */
export function cbsParts(identity: string): CbsParts {
  const p = lower(identity).split('~');
  return p.length === 2 ? [p[0], undefined, undefined, undefined, p[1]] : p;
}

function cbsPartsMatch(wanted: CbsParts, have: CbsParts): boolean {
  const n = Math.max(wanted.length, have.length);
  for (let i = 0; i < n; i++) {
    const w = wanted[i];
    const h = have[i];
    if (w === undefined || w === '' || h === undefined) continue;
    if (w !== h) return false;
  }
  return true;
}

/** The index key of a CBS name and version (Machine.cbsByName holds a package under it and under its name alone). */
const nameVersionKey = (name: string, version: string): string => `${name}|${version}`;
/**
 * The index key of the packages of a name whose identity states no version part. A version `*` would share it: both
 * lists are filtered by cbsPartsMatch, so that only widens the candidates (and the same list is not read twice).
 */
const anyVersionKey = (name: string): string => `${name}|*`;

/** A rule's CBS identity split and keyed for lookups (Machine.cbsMatchesWanted). */
export interface WantedIdentity {
  readonly parts: CbsParts;
  /** The index key its candidates are under: name|version when it states a version, else its name. */
  readonly key: string;
}

/**
 * Splits and keys a rule's identity. Every machine asks about the same few thousand identities (the catalog's
 * strings), and splitting one took most of a CBS rule's time: callers keep the result per catalog fact
 * (eval/context.ts), not per machine.
 */
export function wantedIdentity(identity: string): WantedIdentity {
  const parts = cbsParts(identity);
  return { parts, key: parts[4] ? nameVersionKey(parts[0]!, parts[4]) : parts[0]! };
}
const NO_PACKAGES: readonly InventoryCbsPackage[] = Object.freeze([]);

export function cbsIdentityMatches(wanted: string, installed: string): boolean {
  return cbsPartsMatch(cbsParts(wanted), cbsParts(installed));
}

/**
 * A key's lookups in a machine's registry index, prepared once: its index keys in each view and, nearest first, its
 * ancestors' with the step below each (what decides about a key that is not listed). A rule's key is the same on
 * every machine; lower-casing it and building these strings per machine was most of a registry rule's cost.
 */
export interface RegistryPath {
  readonly native: string;
  readonly wow: string;
  readonly ancestors: readonly { readonly native: string; readonly wow: string; readonly next: string }[];
}

/** A key path as written, without the trailing backslashes an inventory may add (`…\Contoso\`). */
export const withoutTrailingBackslash = (key: string): string => key.replace(/\\+$/, '');
/** A registry key as a machine's index keys it: lower case, no trailing backslash (the view apart). */
export const registryKeyText = (key: string): string => withoutTrailingBackslash(lower(key));
/** The index key of a key text (registryKeyText) in one view. */
const indexKey = (view: RegistryView, keyText: string): string => `${view}|${keyText}`;

export function registryPath(key: string): RegistryPath {
  const k = registryKeyText(key);
  const ancestors: { native: string; wow: string; next: string }[] = [];
  for (let cut = k.lastIndexOf('\\'); cut > 0; cut = k.lastIndexOf('\\', cut - 1)) {
    const parent = k.slice(0, cut);
    ancestors.push({ native: indexKey('native', parent), wow: indexKey('32', parent), next: k.slice(cut + 1).split('\\')[0]! });
  }
  return { native: indexKey('native', k), wow: indexKey('32', k), ancestors };
}

export function joinPath(folder: string, rel: string): string {
  return `${folder.replace(/[\\/]+$/, '')}\\${rel.replace(/^[\\/]+/, '')}`.replace(/[\\/]+/g, '\\');
}

export class Machine {
  readonly name: string;
  // Each index is built on its first lookup: a scan that carries outcomes over to a new catalog reads a few facts,
  // and indexing every file, key and package it never asks about was a tenth of its time.
  private filesIndex: Map<string, InventoryFile> | undefined;
  private keysIndex: Map<string, InventoryRegistryKey> | undefined;
  private productsIndex: Map<string, InventoryMsiProduct> | undefined;
  /** CBS packages by lower-case name, and by name|version, with their identity parts split once. */
  private cbsIndex: Map<string, { parts: CbsParts; pkg: InventoryCbsPackage; at: number }[]> | undefined;
  private wmiIndex: Map<string, Map<string, number>> | undefined;
  /** 32-bit machines have one registry view: RegType32 reads the native one. */
  private readonly singleView: boolean;
  /** Each product's applied patches, normalized once (rules ask about them thousands of times per machine). */
  private readonly patchSets = new Map<InventoryMsiProduct, ReadonlySet<string>>();

  constructor(readonly inv: Inventory) {
    this.name = inv.computer.name;
    const arch = inv.processor?.architecture;
    this.singleView = arch === 0 || arch === 5;
  }

  private get files(): Map<string, InventoryFile> {
    if (this.filesIndex !== undefined) return this.filesIndex;
    const m = new Map<string, InventoryFile>();
    for (const f of this.inv.files ?? []) m.set(lower(f.path.replace(/[\\/]+/g, '\\')), f);
    return (this.filesIndex = m);
  }

  private get keys(): Map<string, InventoryRegistryKey> {
    if (this.keysIndex !== undefined) return this.keysIndex;
    const m = new Map<string, InventoryRegistryKey>();
    for (const k of this.inv.registry ?? []) m.set(indexKey(k.view ?? 'native', registryKeyText(k.key)), k);
    return (this.keysIndex = m);
  }

  private get products(): Map<string, InventoryMsiProduct> {
    if (this.productsIndex !== undefined) return this.productsIndex;
    const m = new Map<string, InventoryMsiProduct>();
    for (const p of this.inv.msi?.products ?? []) m.set(normalizeGuid(p.productCode), p);
    return (this.productsIndex = m);
  }

  private get cbsByName(): Map<string, { parts: CbsParts; pkg: InventoryCbsPackage; at: number }[]> {
    if (this.cbsIndex !== undefined) return this.cbsIndex;
    const m = new Map<string, { parts: CbsParts; pkg: InventoryCbsPackage; at: number }[]>();
    for (const [at, p] of (this.inv.cbs?.packages ?? []).entries()) {
      const parts = cbsParts(p.identity);
      // An identity that does not state its version (fewer than five parts) matches every version a rule names.
      for (const key of [parts[0]!, parts[4] === undefined ? anyVersionKey(parts[0]!) : nameVersionKey(parts[0]!, parts[4])]) {
        const l = m.get(key) ?? [];
        l.push({ parts, pkg: p, at });
        m.set(key, l);
      }
    }
    return (this.cbsIndex = m);
  }

  /** Counts by namespace (lower case), then query: two levels, so no namespace and query can spell another pair. */
  private get wmi(): Map<string, Map<string, number>> {
    if (this.wmiIndex !== undefined) return this.wmiIndex;
    const m = new Map<string, Map<string, number>>();
    for (const w of this.inv.wmi ?? []) {
      const ns = lower(w.namespace);
      let queries = m.get(ns);
      if (queries === undefined) m.set(ns, (queries = new Map()));
      queries.set(w.query, w.count);
    }
    return (this.wmiIndex = m);
  }

  /** Whether a patch (normalized GUID) is applied to a product; undefined when its patches were not collected. */
  hasPatch(p: InventoryMsiProduct, patch: string): boolean | undefined {
    return this.appliedPatches(p)?.has(patch);
  }

  /** A product's applied patches, normalized (once per machine); undefined when they were not collected. */
  appliedPatches(p: InventoryMsiProduct): ReadonlySet<string> | undefined {
    if (!p.patches) return undefined;
    let set = this.patchSets.get(p);
    if (!set) {
      set = new Set(p.patches.map(normalizeGuid));
      this.patchSets.set(p, set);
    }
    return set;
  }

  csidl(id: string): Lookup<string> {
    if (!this.inv.csidl) return NOT_COLLECTED;
    return this.inv.csidl[id] ?? NOT_COLLECTED;
  }

  /** CSIDL folders, normalized once per machine (lower case, single backslashes, no trailing one). */
  private readonly folders = new Map<string, string>();

  /**
   * A file under a CSIDL folder, `rel` already canonical (normalizeFilePath: lower case, single backslashes, no
   * leading one) — the hot path of file rules: one string join and one map lookup, no regular expression.
   */
  fileUnder(csidlId: string, rel: string): Lookup<InventoryFile> {
    let folder = this.folders.get(csidlId);
    if (folder === undefined) {
      const raw = this.csidl(csidlId);
      if (typeof raw === 'symbol') return raw;
      folder = lower(raw.replace(/[\\/]+/g, '\\').replace(/\\$/, ''));
      this.folders.set(csidlId, folder);
    }
    const f = this.files.get(`${folder}\\${rel}`);
    if (!f) return NOT_COLLECTED;
    return f.exists ? f : ABSENT;
  }

  file(fullPath: string): Lookup<InventoryFile> {
    const f = this.files.get(lower(fullPath.replace(/[\\/]+/g, '\\')));
    if (!f) return NOT_COLLECTED;
    return f.exists ? f : ABSENT;
  }

  /** A key: listed (exists or not), or absent because a listed ancestor's complete subkey list lacks it. */
  regKey(view: RegistryView, key: string): Lookup<InventoryRegistryKey> {
    return this.regKeyAt(view, registryPath(key));
  }

  /** {@link regKey} with the key's lookups already prepared by {@link registryPath}. */
  regKeyAt(view: RegistryView, path: RegistryPath): Lookup<InventoryRegistryKey> {
    const wow = view === '32' && !this.singleView;
    const hit = this.keys.get(wow ? path.wow : path.native);
    if (hit) return hit.exists ? hit : ABSENT;
    // The nearest collected ancestor decides: missing, or its complete subkey list lacks the next step → absent.
    for (const a of path.ancestors) {
      const parent = this.keys.get(wow ? a.wow : a.native);
      if (!parent) continue;
      if (!parent.exists) return ABSENT;
      if (parent.subkeys && !parent.subkeys.some((s) => lower(s) === a.next)) return ABSENT;
      return NOT_COLLECTED;
    }
    return NOT_COLLECTED;
  }

  regValue(view: RegistryView, key: string, value: string): Lookup<InventoryRegistryValue> {
    return this.regValueAt(view, registryPath(key), lower(value));
  }

  /** {@link regValue} with the key prepared by {@link registryPath} and the value's name in lower case. */
  regValueAt(view: RegistryView, path: RegistryPath, name: string): Lookup<InventoryRegistryValue> {
    const k = this.regKeyAt(view, path);
    if (typeof k === 'symbol') return k;
    if (!k.values) return NOT_COLLECTED;
    return k.values.find((v) => lower(v.name) === name) ?? ABSENT;
  }

  msiProducts(): Lookup<ReadonlyMap<string, InventoryMsiProduct>> {
    return this.inv.msi ? this.products : NOT_COLLECTED;
  }

  /** CBS packages matching an identity (see {@link cbsIdentityMatches}). */
  cbsMatches(identity: string): Lookup<readonly InventoryCbsPackage[]> {
    return this.cbsMatchesWanted(wantedIdentity(identity));
  }

  /** CBS packages matching an identity already split and keyed by {@link wantedIdentity}. */
  cbsMatchesWanted(w: WantedIdentity): Lookup<readonly InventoryCbsPackage[]> {
    if (!this.inv.cbs) return NOT_COLLECTED;
    // Name and version narrow the candidates to a handful; only an identity without a version scans by name.
    const candidates = this.cbsByName.get(w.key);
    // With a version asked for, the packages listed without one are candidates too (indexed apart: rare).
    let unversioned = w.key !== w.parts[0] ? this.cbsByName.get(anyVersionKey(w.parts[0]!)) : undefined;
    if (unversioned === candidates) unversioned = undefined;
    if (candidates === undefined && unversioned === undefined) return NO_PACKAGES;
    if (unversioned === undefined) {
      const out: InventoryCbsPackage[] = [];
      for (const c of candidates!) if (cbsPartsMatch(w.parts, c.parts)) out.push(c.pkg);
      return out;
    }
    // Both lists: the matches in the inventory's order, as one list would give them (the first match can decide).
    const both = [...(candidates ?? []), ...unversioned].filter((c) => cbsPartsMatch(w.parts, c.parts));
    return both.sort((a, b) => a.at - b.at).map((c) => c.pkg);
  }

  wmiCount(namespace: string, query: string): Lookup<number> {
    const n = this.wmi.get(lower(namespace))?.get(query);
    return n === undefined ? NOT_COLLECTED : n;
  }

  mapValue<T>(map: Readonly<Record<string, T | null>> | undefined, key: string): Lookup<T> {
    if (!map) return NOT_COLLECTED;
    const hit = Object.keys(map).find((k) => lower(k) === lower(key));
    if (hit === undefined) return NOT_COLLECTED;
    const v = map[hit];
    return v === null || v === undefined ? ABSENT : v;
  }
}
