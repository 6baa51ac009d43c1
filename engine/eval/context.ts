/**
 * Per-machine evaluation state: the machine's fact vector (one slot per catalog fact, resolved on first read
 * and kept), and, when explaining, a trace of what each rule read.
 */
import type { Catalog } from '../catalog/catalog.js';
import {
  ABSENT,
  joinPath,
  type Machine,
  NOT_COLLECTED,
  normalizeGuid,
  registryPath,
  wantedIdentity,
  type Lookup,
  type RegistryPath,
  type WantedIdentity,
} from '../inventory/machine.js';
import type { RegistryView } from '../inventory/types.js';
import type { FactKind } from '../rules/facts.js';
import type { MachinePatches } from './msi-patch-table.js';
import { FileVersions } from './file-version-table.js';

export const LOOP_TARGET = 'HKEY_LOOP_TARGET';

/** A fact as evaluated for this machine, for explanations. */
export interface FactReading {
  readonly fact: string;
  readonly value: string;
}

/** A registry fact's key, prepared (registryPath), and its value name in lower case. */
interface PreparedKey {
  readonly path: RegistryPath;
  readonly name: string;
}
/** What a fact's lookups need, prepared from its arguments (the same on every machine). */
type Prepared = WantedIdentity | PreparedKey;

/**
 * Per catalog, per CBS or registry fact: its lookups prepared (machine.ts wantedIdentity, registryPath), on the first
 * machine that reads it. Read by fact number: splitting, lower-casing and keying the catalog's identities and keys
 * per machine — or finding them by text in a map of ~20,000 identities at a random place — was most of such a
 * rule's cost in a scan.
 */
const preparedByFact = new WeakMap<Catalog['data'], (Prepared | undefined)[]>();

/** Whether a fact's registry view is the native one, which a RegKeyLoop over the 32-bit view turns into its own. */
const followsLoopView = (kind: FactKind, args: readonly string[]): boolean =>
  (kind === 'regKey' || kind === 'regSubtree' || kind === 'regValue' || kind === 'fileUnderRegSz') && args[0] === 'native';

export class EvalContext {
  private readonly values: unknown[];
  private readonly resolved: Uint8Array;
  /** Set while evaluating inside RegKeyLoop: the full path of the current subkey. */
  loopTarget: { view: RegistryView; key: string } | undefined;
  /** When set, leaves record what they read. */
  readings: FactReading[] | undefined;
  /**
   * Per-machine results of rule nodes (-1: not evaluated; else a Tri). Identical subtrees are one node in the
   * compiled catalog, so each is evaluated once per machine. Not used while explaining (readings must be recorded).
   */
  nodeMemo: Int8Array | undefined;
  /** This machine's MSI patches as numbers, built on its first numbered patch rule (msi-patch-table.ts). */
  msiPatches: MachinePatches | undefined;

  private versions: FileVersions | undefined;
  private readonly prepared: (Prepared | undefined)[];

  /** `values`/`resolved`/`versions` may be reused storage (all `resolved` flags cleared, `versions` cleared). */
  constructor(
    readonly catalog: Catalog,
    readonly machine: Machine,
    values: unknown[] = new Array<unknown>(catalog.data.facts.count),
    resolved: Uint8Array = new Uint8Array(catalog.data.facts.count),
    versions?: FileVersions,
  ) {
    this.values = values;
    this.resolved = resolved;
    // Storage too small for this catalog's facts (buffers built by hand) is not used: an index past its end would read
    // as a state no fact has, and a file not collected would compare as absent.
    this.versions = versions !== undefined && versions.state.length >= catalog.data.facts.count ? versions : undefined;
    let p = preparedByFact.get(catalog.data);
    if (p === undefined) preparedByFact.set(catalog.data, (p = new Array<Prepared | undefined>(catalog.data.facts.count)));
    this.prepared = p;
  }

  /** This machine's file versions by fact, parsed on first read (file-version-table.ts). */
  fileVersions(): FileVersions {
    return (this.versions ??= new FileVersions(this.catalog.data.facts.count));
  }

  read(reading: () => FactReading): void {
    this.readings?.push(reading());
  }

  /** The machine's value for catalog fact `id` (resolved once, then read by index). */
  fact(id: number): Lookup<unknown> {
    const loop = this.loopTarget;
    if (loop !== undefined && loop.view !== 'native') {
      // Inside a RegKeyLoop visiting the 32-bit view, a registry fact that asks for the native view reads the loop's
      // view (view()): not the value the same fact has outside the loop, so neither kept for it nor taken from it.
      const f = this.catalog.fact(id);
      if (f.loopRelative || followsLoopView(f.kind, f.args)) return this.resolve(f.kind, f.args);
    }
    if (this.resolved[id] === 1) return this.values[id];
    const f = this.catalog.fact(id);
    const v = f.loopRelative ? this.resolve(f.kind, f.args) : this.resolvePrepared(id, f.kind, f.args);
    if (!f.loopRelative) {
      this.values[id] = v;
      this.resolved[id] = 1;
    }
    return v;
  }

  /** {@link resolve} for a fact that does not depend on a RegKeyLoop's subkey, with its lookups prepared once. */
  private resolvePrepared(id: number, kind: FactKind, args: readonly string[]): Lookup<unknown> {
    const m = this.machine;
    switch (kind) {
      case 'cbsPackage':
        return m.cbsMatchesWanted((this.prepared[id] ??= wantedIdentity(args[0]!)) as WantedIdentity);
      case 'regKey':
      case 'regSubtree':
        return m.regKeyAt(this.view(args[0]!), this.preparedKey(id, args).path);
      case 'regValue': {
        const p = this.preparedKey(id, args);
        return m.regValueAt(this.view(args[0]!), p.path, p.name);
      }
      case 'fileUnderRegSz': {
        const p = this.preparedKey(id, args);
        const v = m.regValueAt(this.view(args[0]!), p.path, p.name);
        if (typeof v === 'symbol') return v;
        if (typeof v.data !== 'string') return ABSENT;
        return m.file(joinPath(v.data, args[3]!));
      }
      default:
        return this.resolve(kind, args);
    }
  }

  /** A registry fact's key (args[1]) and value name (args[2], lower case), prepared. */
  private preparedKey(id: number, args: readonly string[]): PreparedKey {
    return (this.prepared[id] ??= { path: registryPath(args[1]!), name: (args[2] ?? '').toLowerCase() }) as PreparedKey;
  }

  private key(k: string): string {
    // Inside a RegKeyLoop, HKEY_LOOP_TARGET stands for the current subkey.
    if (k.startsWith(LOOP_TARGET)) return this.loopTarget ? `${this.loopTarget.key}${k.slice(LOOP_TARGET.length)}` : '\u0000no loop';
    return k;
  }

  private view(v: string): RegistryView {
    return this.loopTarget && v === 'native' ? this.loopTarget.view : (v as RegistryView);
  }

  /**
   * Why a file found through a registry string (fileUnderRegSz) is absent, for an explanation: the value is missing,
   * is not a string, or names a folder without the file. Only explanations call it (evaluation needs the answer alone).
   */
  whyFileUnderRegSzAbsent(args: readonly string[]): string {
    const v = this.machine.regValue(this.view(args[0]!), this.key(args[1]!), args[2]!);
    if (v === ABSENT) return 'absent (the registry value is absent)';
    if (typeof v === 'symbol') return 'absent';
    if (typeof v.data !== 'string') return `absent (the registry value is ${v.type}, not a string naming a folder)`;
    return `absent (no file ${joinPath(v.data, args[3]!)})`;
  }

  /** The value of one fact, read from the inventory sections rules/reads.ts FACT_SECTIONS gives its kind (only those). */
  resolve(kind: FactKind, args: readonly string[]): Lookup<unknown> {
    const m = this.machine;
    const inv = m.inv;
    switch (kind) {
      case 'os':
      case 'osLanguage':
      case 'muiLanguages':
        return inv.os ?? NOT_COLLECTED;
      case 'processor':
        return inv.processor ?? NOT_COLLECTED;
      case 'cluster':
        return inv.cluster ?? NOT_COLLECTED;
      case 'systemMetric':
        return m.mapValue(inv.systemMetrics, args[0]!);
      case 'licenseDword':
        return m.mapValue(inv.licensing, args[0]!);
      case 'deviceAttribute':
        return m.mapValue(inv.deviceAttributes, args[0]!);
      case 'file':
        // args: (csidl, canonical relative path); no CSIDL means the path is absolute.
        return args[0] === '' ? m.file(args[1]!) : m.fileUnder(args[0]!, args[1]!);
      case 'fileUnderRegSz': {
        const v = m.regValue(this.view(args[0]!), this.key(args[1]!), args[2]!);
        if (typeof v === 'symbol') return v;
        if (typeof v.data !== 'string') return ABSENT;
        return m.file(joinPath(v.data, args[3]!));
      }
      case 'regKey':
      case 'regSubtree':
        return m.regKey(this.view(args[0]!), this.key(args[1]!));
      case 'regValue':
        return m.regValue(this.view(args[0]!), this.key(args[1]!), args[2]!);
      case 'wmi':
        return m.wmiCount(args[0]!, args[1]!);
      case 'msiProduct':
      case 'msiPatch':
      case 'msiFeature':
      case 'msiComponent':
      case 'msiPatchMetadata':
        return m.msiProducts();
      case 'cbsPackage':
        return m.cbsMatches(args[0]!);
      case 'productRelease':
        return inv.productReleases ?? NOT_COLLECTED;
      // Not in the inventory format yet (FACT_SECTIONS: none): Unknown on every machine.
      case 'genericQuery':
      case 'driver':
      case 'appxPackage':
      case 'hardware':
        return NOT_COLLECTED;
      default: {
        const unhandled: never = kind; // a fact kind added to rules/facts.ts must say where it is read from
        void unhandled;
        return NOT_COLLECTED;
      }
    }
  }
}

/**
 * Human text of a fact key for reasons: `file 37\conhost.exe`, `registry HKLM\…\UBR`. `attrs` (the reading rule's)
 * give names as the catalog spells them where the fact key is folded to lower case (device attributes).
 */
export function factLabel(kind: string, args: readonly string[], attrs?: Readonly<Record<string, string>>): string {
  switch (kind) {
    case 'deviceAttribute':
      return `device attribute ${attrs?.Name ?? args[0]}`;
    case 'file':
      return `file ${args[0] ? `CSIDL ${args[0]}\\` : ''}${args[1]}`;
    case 'fileUnderRegSz':
      return `file ${args[3]} under registry ${args[1]}\\${args[2]}${args[0] === '32' ? ' (32-bit view)' : ''}`;
    case 'regKey':
    case 'regSubtree':
      return `registry key ${args[1]}${args[0] === '32' ? ' (32-bit view)' : ''}`;
    case 'regValue':
      return `registry value ${args[1]}\\${args[2] || '(default)'}${args[0] === '32' ? ' (32-bit view)' : ''}`;
    case 'wmi':
      return `WMI query ${args[1]} in ${args[0]}`;
    case 'msiProduct':
      return `MSI product ${args[0] ? `{${normalizeGuid(args[0])}}` : 'list'}`;
    case 'cbsPackage':
      return `CBS package ${attrs?.PackageIdentity ?? args[0]}`;
    case 'productRelease':
      return `product release ${attrs?.Name ?? args[0]}`;
    case 'os':
      return 'OS version';
    case 'processor':
      return 'processor';
    default:
      return `${kind}${args.length ? ` ${args.join(' ')}` : ''}`;
  }
}

export { ABSENT, NOT_COLLECTED };
