/**
 * Fleet generator: heterogeneous inventories that exercise a catalog, deterministic from a seed and streamed
 * (memory flat in the number of clients).
 *
 * It reads the catalog's rules to learn what matters — the OS versions WindowsVersion rules test, the file versions
 * FileVersion rules compare, the registry values, MSI products and CBS packages rules name — and builds machines
 * the way real fleets are: an OS build and architecture, a patch level from fully patched to years behind (which
 * fixes every file version, UBR and package at once, so machines at the same level look alike, as they do in real
 * life), installed products, an install language, and now and then a section the collector failed to gather.
 *
 * `distinct` makes a share of the machines one of a kind, as real fleets are: Defender, Office, .NET, driver and
 * third-party versions drift machine to machine, so most machines have a profile no other machine has.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { Packr } from 'msgpackr';
import type { Catalog } from '../engine/catalog/catalog.js';
import { RULE_OP_BASE } from '../engine/catalog/data.js';
import { buildManifest } from '../engine/eval/manifest.js';
import type { Inventory, InventoryFile, InventoryRegistryKey, InventoryRegistryValue } from '../engine/inventory/types.js';

export interface FleetOptions {
  readonly clients: number;
  readonly seed: number;
  /** Output file: `.jsonl` (one JSON inventory per line) or `.msgpack` (a stream of msgpack documents). */
  readonly out: string;
  /**
   * Percentage (0–100) of the machines given a profile of their own (see {@link FleetModel.machine}); default 0,
   * which writes exactly the fleet of earlier versions. Spread evenly: machine i is one of them when
   * ⌊(i+1)·p/100⌋ > ⌊i·p/100⌋.
   */
  readonly distinct?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Whether machine `index` is one of the `distinct` percent with a profile of their own (evenly spread). */
export function isDistinctMachine(index: number, distinct: number): boolean {
  return Math.floor(((index + 1) * distinct) / 100) > Math.floor((index * distinct) / 100);
}

/** Distinct machine images (OS, architecture, language, installed products) a fleet is built from. */
const IMAGES = 48;

/** Mulberry32: one small PRNG per machine, seeded from (seed, index), so any machine can be made on its own. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface OsChoice {
  major: number;
  minor: number;
  build: number;
  productType: number;
}

const cmpVersion = (a: string, b: string): number => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};

/** What the catalog's rules compare against, gathered once. */
export class FleetModel {
  readonly oses: OsChoice[] = [];
  readonly archs: number[] = [];
  /** fact id → sorted candidate versions (FileVersion*) */
  readonly fileVersions = new Map<number, string[]>();
  /** fact id → candidate DWORDs (RegDword) / strings (RegSz) */
  readonly dwords = new Map<number, number[]>();
  readonly strings = new Map<number, string[]>();
  readonly msiProducts: string[] = [];
  readonly cbsIdentities: string[] = [];
  readonly manifest: ReturnType<typeof buildManifest>;
  private readonly factIdOf = new Map<string, number>();
  private readonly valuesByKey = new Map<string, { name: string; fact: number }[]>();
  private readonly prefixFolders = new Map<string, string>();

  constructor(readonly catalog: Catalog) {
    this.manifest = buildManifest(catalog);
    const d = catalog.data;
    const osSeen = new Set<string>();
    const add = <T>(m: Map<number, T[]>, k: number, v: T): void => {
      const l = m.get(k);
      if (!l) m.set(k, [v]);
      else if (!l.includes(v)) l.push(v);
    };
    for (let n = 0; n < d.nodes.count; n++) {
      const op = d.nodes.op[n]!;
      if (op < RULE_OP_BASE) continue;
      const type = d.ruleTypes[op - RULE_OP_BASE];
      const a = catalog.nodeAttrs(n);
      const facts = catalog.nodeFacts(n);
      switch (type) {
        case 'WindowsVersion':
          if (a.MajorVersion && a.MinorVersion && a.BuildNumber && a.ProductType) {
            const key = `${a.MajorVersion}.${a.MinorVersion}.${a.BuildNumber}.${a.ProductType}`;
            if (!osSeen.has(key)) {
              osSeen.add(key);
              this.oses.push({
                major: Number(a.MajorVersion),
                minor: Number(a.MinorVersion),
                build: Number(a.BuildNumber),
                productType: Number(a.ProductType),
              });
            }
          }
          break;
        case 'Processor':
          if (a.Architecture && !this.archs.includes(Number(a.Architecture))) this.archs.push(Number(a.Architecture));
          break;
        case 'FileVersion':
        case 'FileVersionPrependRegSz':
          if (a.Version && facts[0] !== undefined) add(this.fileVersions, facts[0], a.Version);
          break;
        case 'RegDword':
          if (a.Data && facts[0] !== undefined) add(this.dwords, facts[0], Number(a.Data));
          break;
        case 'RegSz':
          if (a.Data !== undefined && facts[0] !== undefined) add(this.strings, facts[0], a.Data);
          break;
        case 'MsiProductInstalled':
          if (a.ProductCode && !this.msiProducts.includes(a.ProductCode)) this.msiProducts.push(a.ProductCode);
          break;
        case 'CbsPackageInstalledByIdentity':
          if (a.PackageIdentity && a.PackageIdentity.split('~').length === 5 && !this.cbsIdentities.includes(a.PackageIdentity))
            this.cbsIdentities.push(a.PackageIdentity);
          break;
        default:
          break; // the generator varies only the facts above
      }
    }
    for (let u = 0; u < catalog.size; u++) {
      const m = catalog.metadata(u);
      if (m?.attrs.identity && !this.cbsIdentities.includes(m.attrs.identity)) this.cbsIdentities.push(m.attrs.identity);
    }
    for (const l of this.fileVersions.values()) l.sort(cmpVersion);
    for (const l of this.dwords.values()) l.sort((x, y) => x - y);
    for (let f = 0; f < d.facts.count; f++) {
      const info = catalog.fact(f);
      if (info.kind === 'file' || info.kind === 'fileUnderRegSz') this.factIdOf.set(`${info.kind}|${info.args.join('|')}`, f);
      if (info.kind === 'regValue') {
        const k = `${info.args[0]}|${info.args[1]}`;
        const l = this.valuesByKey.get(k) ?? [];
        l.push({ name: info.args[2]!, fact: f });
        this.valuesByKey.set(k, l);
      }
    }
    for (const fu of this.manifest.filesUnderRegistry)
      this.prefixFolders.set(`${fu.view}|${fu.key}|${fu.value}`, `C:\\ProgramData\\Vendor\\${fu.value}`);
    if (this.oses.length === 0) this.oses.push({ major: 10, minor: 0, build: 19045, productType: 1 });
    if (this.archs.length === 0) this.archs.push(9);
  }

  private readonly cbsCache = new Map<string, { id: string; ubr: number }[]>();

  /** CBS package identities for an architecture and OS build, newest first (computed once per pair). */
  private cbsFor(arch: string, build: number): { id: string; ubr: number }[] {
    const key = `${arch}|${build}`;
    let l = this.cbsCache.get(key);
    if (!l) {
      l = this.cbsIdentities
        .map((id) => ({ id, parts: id.split('~') }))
        .filter(({ parts }) => parts[2] === arch && parts[4] !== undefined && Number(parts[4].split('.')[0]) === build)
        .map(({ id, parts }) => ({ id, ubr: Number(parts[4]!.split('.')[1]) }))
        .filter(({ ubr }) => Number.isFinite(ubr))
        .sort((x, y) => y.ubr - x.ubr);
      this.cbsCache.set(key, l);
    }
    return l;
  }

  /** Versions of a system file that belong to this OS (same major.minor.build), when the rules name any. */
  private readonly osVersionCache = new Map<string[], Map<OsChoice, string[]>>();

  private forOs(versions: string[] | undefined, os: OsChoice): string[] | undefined {
    if (!versions) return undefined;
    let byOs = this.osVersionCache.get(versions);
    if (!byOs) this.osVersionCache.set(versions, (byOs = new Map()));
    let hit = byOs.get(os);
    if (!hit) byOs.set(os, (hit = this.filterForOs(versions, os)));
    return hit;
  }

  private filterForOs(versions: string[], os: OsChoice): string[] {
    const own = versions.filter((v) => v.startsWith(`${os.major}.${os.minor}.${os.build}.`));
    if (own.length > 0) return own;
    const family = versions.filter((v) => v.startsWith(`${os.major}.${os.minor}.`));
    return family.length > 0 ? family : versions;
  }

  /**
   * Machine `index` of the fleet with seed `seed`. Fleets are built from a few dozen images (OS, architecture,
   * language, products) patched in waves: what rules read follows from (image, patch level); only identity, sizes,
   * dates and the odd missing section vary per machine — so machines at the same level look alike, as in real life.
   * With `distinct`, the machine also drifts from its image the way single machines do (see {@link drift}).
   */
  machine(seed: number, index: number, distinct = false): Inventory {
    const r = rng((seed * 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
    const image = Math.floor(r() * IMAGES);
    // Patch level in 24 steps: 30 % fully patched, 45 % recent, 25 % years behind. Same level → same versions.
    const u = r();
    const step = u < 0.3 ? 24 : u < 0.75 ? 18 + Math.floor(r() * 6) : Math.floor(r() * 12);
    const level = step / 24;
    const missing = r() < 0.05 ? ['files', 'registry', 'msi', 'cbs', 'os'][Math.floor(r() * 5)]! : '';
    const img = rng((seed * 0x85ebca6b) ^ Math.imul(image + 1, 0x9e3779b1) ^ Math.imul(step + 7, 0xc2b2ae35));
    const imgPick = <T>(xs: readonly T[]): T => xs[Math.floor(img() * xs.length)]!;
    const imageRng = rng((seed * 0x27d4eb2f) ^ Math.imul(image + 1, 0x165667b1));
    const m = this.manifest;
    const os = this.oses[Math.floor(imageRng() * this.oses.length)]!;
    // x64 dominates; 32-bit and ARM64 machines exist; IA64 only on old servers.
    const archWeights: number[] = this.archs.map((a) =>
      a === 9 ? 10 : a === 0 ? 2 : a === 12 ? 2 : os.productType === 3 && os.major < 10 ? 1 : 0,
    );
    let w = imageRng() * archWeights.reduce((s, x) => s + x, 0);
    let arch = this.archs[0]!;
    for (let i = 0; i < this.archs.length; i++)
      if ((w -= archWeights[i]!) < 0) {
        arch = this.archs[i]!;
        break;
      }
    const atLevel = <T>(xs: readonly T[]): T => xs[Math.min(xs.length - 1, Math.floor(level * xs.length))]!;
    const lang = ['en-US', 'en-US', 'en-US', 'de-DE', 'fr-FR', 'ja-JP'][Math.floor(imageRng() * 6)]!;
    const products = this.msiProducts.filter(() => imageRng() < 0.45);
    const pick = imgPick;
    const lcid: Record<string, string> = { 'en-US': '0409', 'de-DE': '0407', 'fr-FR': '040C', 'ja-JP': '0411' };
    const ubr = os.major >= 10 ? 100 + Math.floor(level * 4900) : undefined;
    const sys = arch === 0 ? 'C:\\Windows\\System32' : 'C:\\Windows\\System32';
    const csidl: Record<string, string> = { '36': 'C:\\Windows', '37': sys, '38': 'C:\\Program Files' };
    if (arch !== 0) {
      csidl['41'] = 'C:\\Windows\\SysWOW64';
      csidl['42'] = 'C:\\Program Files (x86)';
    }

    // Files under CSIDL folders (version from the patch level), and under registry-named folders.
    const files: InventoryFile[] = [];
    const seenPath = new Set<string>();
    const { factIdOf, valuesByKey, prefixFolders } = this;
    for (const fl of m.files) {
      const folder = csidl[fl.csidl];
      if (!folder) continue;
      const path = `${folder}\\${fl.path.replace(/^\\+/, '')}`;
      if (seenPath.has(path.toLowerCase())) continue;
      seenPath.add(path.toLowerCase());
      const versions = this.forOs(this.fileVersions.get(factIdOf.get(`file|${fl.csidl}|${fl.path}`) ?? -1), os);
      if (img() < 0.08) files.push({ path, exists: false });
      else
        files.push({
          path,
          exists: true,
          size: 100_000 + Math.floor(r() * 5_000_000),
          ...(versions ? { version: atLevel(versions) } : { version: `10.0.${os.build}.${ubr ?? 1}` }),
        });
    }
    // Registry: keys the rules read, with the values they compare.
    const registry: InventoryRegistryKey[] = [];
    for (const key of m.registryKeys) {
      const exists = key.key.includes('currentversion') || key.key.includes('nls\\language') || img() < 0.75;
      if (!exists) {
        registry.push({ key: key.key, view: key.view as 'native' | '32', exists: false });
        continue;
      }
      const values: InventoryRegistryValue[] = [];
      for (const v of valuesByKey.get(`${key.view}|${key.key}`) ?? []) {
        const prefix = prefixFolders.get(`${key.view}|${key.key}|${v.name}`);
        if (prefix) values.push({ name: v.name, type: 'REG_SZ', data: prefix });
        else if (v.name === 'ubr' && ubr !== undefined) values.push({ name: 'UBR', type: 'REG_DWORD', data: ubr });
        else if (v.name === 'installlanguage') values.push({ name: 'InstallLanguage', type: 'REG_SZ', data: lcid[lang]! });
        else if (this.dwords.has(v.fact)) {
          if (img() < 0.7) values.push({ name: v.name, type: 'REG_DWORD', data: atLevel(this.dwords.get(v.fact)!) });
        } else if (this.strings.has(v.fact)) {
          if (img() < 0.5) values.push({ name: v.name, type: 'REG_SZ', data: pick(this.strings.get(v.fact)!) });
        }
      }
      registry.push({ key: key.key, view: key.view as 'native' | '32', exists: true, values, subkeys: [] });
    }
    for (const fu of m.filesUnderRegistry) {
      const path = `${prefixFolders.get(`${fu.view}|${fu.key}|${fu.value}`)}\\${fu.path}`;
      if (seenPath.has(path.toLowerCase())) continue;
      seenPath.add(path.toLowerCase());
      const versions = this.fileVersions.get(factIdOf.get(`fileUnderRegSz|${fu.view}|${fu.key}|${fu.value}|${fu.path}`) ?? -1);
      files.push({ path, exists: true, ...(versions ? { version: atLevel(versions) } : {}) });
    }
    // CBS: packages for this build and architecture installed up to the patch level (the rest superseded).
    const cbsArch: Record<number, string> = { 0: 'x86', 9: 'amd64', 6: 'ia64', 12: 'arm64' };
    const packages: { identity: string; state: string }[] = [];
    // Servicing cleanup keeps the installed package and the last few it superseded, as real machines do.
    const owned = this.cbsFor(cbsArch[arch] ?? '', os.build)
      .filter(({ ubr: u }) => ubr !== undefined && u <= ubr)
      .slice(0, 6);
    owned.forEach(({ id }, k) => packages.push({ identity: id, state: k === 0 ? 'Installed' : 'Superseded' }));
    const inv: Inventory = {
      schema: 'patchscan-inventory/1',
      computer: { name: `PC-${String(index).padStart(7, '0')}`, id: `fleet-${seed}-${index}` },
      collectedAt: new Date(Date.UTC(2026, 10, 1) + Math.floor(r() * 20 * 86_400_000)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(missing !== 'os'
        ? {
            os: {
              major: os.major,
              minor: os.minor,
              build: os.build,
              ...(ubr !== undefined ? { ubr } : {}),
              spMajor: 0,
              spMinor: 0,
              productType: os.productType,
              suiteMask: 256,
              installLanguage: lang,
              uiLanguages: [lang],
              muiInstalled: false,
            },
          }
        : {}),
      processor: { architecture: arch, level: 6, revision: 0, count: 2 + 2 * Math.floor(r() * 8) },
      csidl,
      ...(missing !== 'files' ? { files } : {}),
      ...(missing !== 'registry' ? { registry } : {}),
      ...(missing !== 'msi' && m.msiProducts
        ? { msi: { products: products.map((productCode) => ({ productCode, version: '16.0.5000.1000', language: 1033, patches: [] })) } }
        : {}),
      ...(missing !== 'cbs' && m.cbsPackages ? { cbs: { packages } } : {}),
      ...(m.licensing.length ? { licensing: Object.fromEntries(m.licensing.map((g) => [g, img() < 0.8 ? null : 1])) } : {}),
    };
    if (distinct) this.drift(inv, seed, index);
    return inv;
  }

  /**
   * What makes one machine unlike its image-mates, as in real fleets: a few product files (Defender's platform,
   * Office's DLLs, a driver) at a point release between patch levels or ahead of them, the Office (MSI) version on
   * its own update channel, a DWORD such as .NET's Release differing, a third-party MSI product added or removed.
   * Then one value carries the machine's index (a build number that only this machine has), so its profile is its
   * own even when the random drift happens to match another machine's.
   */
  private drift(inv: Inventory, seed: number, index: number): void {
    const r = rng((seed * 0x2c1b3c6d) ^ Math.imul(index + 1, 0x297a2d39));
    const bump = (v: string): string => {
      const p = v.split('.').map(Number);
      while (p.length < 4) p.push(0);
      p[3] = (p[3]! + 1 + Math.floor(r() * 900)) % 65536;
      if (r() < 0.3) p[2] = Math.min(65535, p[2]! + 1);
      return p.join('.');
    };
    const versioned = (inv.files ?? []).filter((f) => f.exists && f.version !== undefined);
    const files = inv.files ? [...inv.files] : undefined;
    for (let k = 1 + Math.floor(r() * 4); k > 0 && versioned.length > 0; k--) {
      const f = versioned[Math.floor(r() * versioned.length)]!;
      const at = files!.indexOf(f);
      files![at] = { ...files![at]!, version: bump(f.version!) };
    }
    let products = inv.msi ? inv.msi.products.map((p) => ({ ...p })) : undefined;
    if (products) {
      if (products.length > 0 && r() < 0.6) {
        const p = products[Math.floor(r() * products.length)]!;
        p.version = bump(p.version ?? '16.0.5000.1000');
      }
      if (this.msiProducts.length > 0 && r() < 0.3) {
        const code = this.msiProducts[Math.floor(r() * this.msiProducts.length)]!;
        const had = products.findIndex((p) => p.productCode === code);
        if (had >= 0) products.splice(had, 1);
        else products.push({ productCode: code, version: '16.0.5000.1000', language: 1033, patches: [] });
      }
    }
    const registry = inv.registry?.map((k) => {
      if (!k.exists || !k.values?.some((v) => v.type === 'REG_DWORD') || r() >= 0.05) return k;
      return {
        ...k,
        values: k.values.map((v) =>
          v.type === 'REG_DWORD' && typeof v.data === 'number' && v.name !== 'UBR' ? { ...v, data: v.data + 1 + Math.floor(r() * 50) } : v,
        ),
      };
    });
    // The machine's own mark: a version only it has (the index split over build and revision, past any real one), on
    // one of its files.
    const mark = `${60000 + (Math.floor(index / 65536) % 5000)}.${index % 65536}`;
    const carriers = files ? files.flatMap((f, k) => (f.exists && f.version !== undefined ? [k] : [])) : [];
    const carrier = carriers.length > 0 ? carriers[Math.floor(r() * carriers.length)]! : -1;
    if (carrier >= 0) {
      const v = files![carrier]!.version!.split('.');
      files![carrier] = { ...files![carrier]!, version: `${v[0] ?? 1}.${v[1] ?? 0}.${mark}` };
    } else if (products && products.length > 0) products[0]!.version = `16.0.${mark}`;
    else
      products = [
        ...(products ?? []),
        { productCode: '{0D1D5D6E-0000-4000-8000-00000000D15C}', version: `1.0.${mark}`, language: 1033, patches: [] },
      ];
    const out = inv as { -readonly [K in keyof Inventory]: Inventory[K] };
    if (files) out.files = files;
    if (registry) out.registry = registry;
    if (products) out.msi = { ...(inv.msi ?? {}), products };
  }
}

/** Writes `clients` inventories as JSON Lines or a msgpack stream; returns bytes written. */
export function generateFleet(catalog: Catalog, opts: FleetOptions): { clients: number; bytes: number } {
  if (!Number.isInteger(opts.clients) || opts.clients < 1) throw new RangeError('clients must be a positive integer');
  const distinct = opts.distinct ?? 0;
  if (!(distinct >= 0 && distinct <= 100)) throw new RangeError('distinct must be a percentage from 0 to 100');
  const model = new FleetModel(catalog);
  const msgpack = /\.(msgpack|mpk)$/i.test(opts.out);
  const packr = new Packr({ useRecords: false });
  const fd = openSync(`${opts.out}.tmp`, 'w');
  let bytes = 0;
  const chunk: Buffer[] = [];
  let pending = 0;
  const flush = (): void => {
    if (chunk.length === 0) return;
    const b = Buffer.concat(chunk);
    writeSync(fd, b);
    bytes += b.length;
    chunk.length = 0;
    pending = 0;
  };
  try {
    for (let i = 0; i < opts.clients; i++) {
      const inv = model.machine(opts.seed, i, isDistinctMachine(i, distinct));
      // pack() returns a view of a shared buffer: copy before keeping it.
      const b = msgpack ? Buffer.from(packr.pack(inv)) : Buffer.from(`${JSON.stringify(inv)}\n`);
      chunk.push(b);
      pending += b.length;
      if (pending > 1 << 20) flush();
      if ((i & 1023) === 0) opts.onProgress?.(i, opts.clients);
    }
    flush();
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(`${opts.out}.tmp`, opts.out);
  } catch (e) {
    rmSync(`${opts.out}.tmp`, { force: true }); // no half-named file left beside a destination that cannot be written
    throw e;
  }
  opts.onProgress?.(opts.clients, opts.clients);
  return { clients: opts.clients, bytes };
}
