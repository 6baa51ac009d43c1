/**
 * A full-scale, format-faithful wsusscn2.cab generator, deterministic from a seed.
 *
 * Layout as Microsoft ships it (reference §1): an outer MSZIP cabinet holding index.xml, package.cab
 * (package.xml) and range cabinets package2.cab… whose c/, x/ and l/<lang>/ fragments are keyed by RevisionId.
 *
 * Structure as real catalogs have it: the category tree (company → product families → products, and the
 * classifications), detectoids shared by thousands of updates (OS build + UBR, architecture, installed products,
 * language), bundles whose children vary per architecture and language (AtLeastOne groups), monthly supersedence
 * chains per product, and rule shapes copied from real fragments: WindowsVersion + UBR, FileVersion with CSIDL,
 * RegDword/RegSz, FileExistsPrependRegSz/FileVersionPrependRegSz, MSI and CBS rules, nested And/Or/Not.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CabWriter } from '../adapters/cab/writer.js';
import { PatchscanError } from '../engine/errors.js';
import { readChunks } from '../adapters/fs/chunks.js';

export interface GenerateOptions {
  /** Total revisions (categories, detectoids, bundles and their children), exactly. At least MIN_REVISIONS. */
  readonly revisions: number;
  readonly seed: number;
  readonly out: string;
  /** Revisions per range cabinet (each holds about three fragments per revision, at most 65,535 files). */
  readonly revisionsPerRangeCab?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface GenerateResult {
  readonly revisions: number;
  readonly bundles: number;
  readonly detectoids: number;
  readonly categories: number;
  readonly rangeCabs: number;
  readonly bytes: number;
  readonly xmlBytes: number;
}

/** splitmix32: small, fast, and good enough to shape a corpus. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.next() * a.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  guid(): string {
    const h = (n: number): string => Array.from({ length: n }, () => Math.floor(this.next() * 16).toString(16)).join('');
    return `${h(8)}-${h(4)}-4${h(3)}-${'89ab'[this.int(0, 3)]}${h(3)}-${h(12)}`;
  }
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

// Real GUIDs from the reference (§2.3) where they are known.
const MICROSOFT = '56309036-4c77-4dd9-951a-99ee9c246a94';
const WINDOWS_FAMILY = '6964aab4-c5b5-43bd-a17d-ffb4346a8e1d';
const CLASSIFICATIONS = [
  { id: '0fa1201d-4330-4fa8-8ae9-b877473b6441', title: 'Security Updates', weight: 6 },
  { id: 'e6cf1350-c01b-414d-a61f-263d14d133b4', title: 'Critical Updates', weight: 2 },
  { id: '28bc880e-0592-4cbf-8f95-c79b17911d5f', title: 'Update Rollups', weight: 2 },
  { id: '68c5b0a3-d1a6-4553-ae49-01d3a7827828', title: 'Service Packs', weight: 1 },
] as const;

interface OsProduct {
  readonly name: string;
  readonly major: number;
  readonly minor: number;
  readonly build: number;
  readonly productType: 1 | 3;
  readonly cbs: boolean; // cumulative updates via CBS packages (Windows 10+)
  readonly archs: readonly number[]; // SYSTEM_INFO architectures
}

const OS_PRODUCTS: readonly OsProduct[] = [
  { name: 'Windows 7', major: 6, minor: 1, build: 7601, productType: 1, cbs: false, archs: [0, 9] },
  { name: 'Windows Server 2008 R2', major: 6, minor: 1, build: 7601, productType: 3, cbs: false, archs: [9, 6] },
  { name: 'Windows 8.1', major: 6, minor: 3, build: 9600, productType: 1, cbs: false, archs: [0, 9] },
  { name: 'Windows Server 2012 R2', major: 6, minor: 3, build: 9600, productType: 3, cbs: false, archs: [9] },
  { name: 'Windows 10, version 1809', major: 10, minor: 0, build: 17763, productType: 1, cbs: true, archs: [0, 9, 12] },
  { name: 'Windows Server 2019', major: 10, minor: 0, build: 17763, productType: 3, cbs: true, archs: [9] },
  { name: 'Windows 10, version 22H2', major: 10, minor: 0, build: 19045, productType: 1, cbs: true, archs: [0, 9, 12] },
  { name: 'Windows Server 2022', major: 10, minor: 0, build: 20348, productType: 3, cbs: true, archs: [9] },
  { name: 'Windows 11, version 23H2', major: 10, minor: 0, build: 22631, productType: 1, cbs: true, archs: [9, 12] },
];
const APP_PRODUCTS = [
  { name: 'Office 2016', family: 'Office', kind: 'msi' as const },
  { name: 'Office 2013', family: 'Office', kind: 'msi' as const },
  { name: '.NET Framework 4.8', family: 'Developer Tools, Runtimes, and Redistributables', kind: 'dotnet' as const },
  { name: 'Microsoft Defender Antivirus', family: 'Windows', kind: 'defender' as const },
];
const ARCH_NAME: Readonly<Record<number, string>> = { 0: 'x86', 9: 'x64', 6: 'Itanium', 12: 'ARM64' };
const CBS_ARCH: Readonly<Record<number, string>> = { 0: 'x86', 9: 'amd64', 6: 'ia64', 12: 'arm64' };
const LANGS = ['en', 'de', 'fr', 'ja'] as const;
const SYSTEM_FILES = [
  'ntoskrnl.exe',
  'win32k.sys',
  'kernel32.dll',
  'mshtml.dll',
  'drivers\\tcpip.sys',
  'schannel.dll',
  'rpcrt4.dll',
  'ole32.dll',
];

interface Rev {
  readonly revisionId: number;
  readonly updateId: string;
  readonly revisionNumber: number;
  readonly core: string;
  readonly extended: string;
  readonly titles: readonly [string, string][]; // (lang, title)
  /** package.xml CreationDate (when the revision was published); categories and detectoids share one date. */
  readonly created?: string;
  /** The localized MoreInfoUrl (the KB article, for updates). */
  readonly moreInfo?: string;
  readonly pkg: {
    isLeaf: boolean;
    isBundle: boolean;
    action?: 'Bundle' | 'Evaluate';
    categories: [string, string][];
    prereqs: string[];
    bundledBy: number[];
    supersededBy: number[];
    languages: string[];
    payload: number;
  };
}

function coreXml(updateId: string, rev: number, type: string, extraProps: string, relationships: string, rules: string): string {
  return (
    `<UpdateIdentity UpdateID="${updateId}" RevisionNumber="${rev}" /><Properties UpdateType="${type}"${extraProps} />` +
    (relationships ? `<Relationships>${relationships}</Relationships>` : '') +
    (rules ? `<ApplicabilityRules>${rules}</ApplicabilityRules>` : '')
  );
}

const ident = (id: string): string => `<UpdateIdentity UpdateID="${id}" />`;
const catGroup = (id: string): string => `<AtLeastOne IsCategory="true">${ident(id)}</AtLeastOne>`;
const installed = (x: string): string => `<IsInstalled>${x}</IsInstalled>`;
const installable = (x: string): string => `<IsInstallable>${x}</IsInstallable>`;
const winVer = (cmp: string, o: OsProduct, withBuild = true, withType = false): string =>
  `<b.WindowsVersion Comparison="${cmp}" MajorVersion="${o.major}" MinorVersion="` +
  `${o.minor}"${withBuild ? ` BuildNumber="${o.build}"` : ''}` +
  `${withType ? ` ProductType="${o.productType}"` : ''} />`;
const ubr = (cmp: string, v: number): string =>
  `<b.RegDword Key="HKEY_LOCAL_MACHINE" Subkey="SOFTWARE\\Microsoft\\Windows ` +
  `NT\\CurrentVersion" Value="UBR" Comparison="${cmp}" Data="${v}" />`;

/** Categories (company, families, classifications, products) and detectoids (architecture, OS, language, product). */
const FIXED_REVISIONS =
  1 + 3 + CLASSIFICATIONS.length + OS_PRODUCTS.length + APP_PRODUCTS.length + (4 + OS_PRODUCTS.length + LANGS.length + APP_PRODUCTS.length);

/** The smallest catalog: the category tree, the detectoids, and one software update (a bundle and its one child). */
export const MIN_REVISIONS = FIXED_REVISIONS + 2;

export function generateCatalog(opts: GenerateOptions): GenerateResult {
  if (!Number.isSafeInteger(opts.revisions) || opts.revisions < MIN_REVISIONS) {
    throw new PatchscanError(
      'BAD_ARGUMENT',
      `revisions ${JSON.stringify(opts.revisions)}: give a whole number of at least ` +
        `${MIN_REVISIONS} (the category tree and detectoids take ${FIXED_REVISIONS}, one ` +
        `update and its bundled child 2 more)`,
    );
  }
  const rng = new Rng(opts.seed);
  const revs: Rev[] = [];
  let nextRid = 100_000 + rng.int(0, 999);
  const newRid = (): number => (nextRid += rng.int(1, 3));
  const created = (k: number): string => new Date(Date.UTC(2016, 0, 1) + k * 86_400_000 * 7).toISOString().replace('.000Z', 'Z');

  const addRev = (r: Omit<Rev, 'revisionId'>, rid = newRid()): Rev => {
    const full = { ...r, revisionId: rid };
    revs.push(full);
    return full;
  };

  // --- Categories -------------------------------------------------------------------------------------------
  const category = (id: string, title: string, type: string, parent: string | undefined, isInstalled: string): Rev =>
    addRev({
      updateId: id,
      revisionNumber: rng.int(100, 110),
      core: coreXml(id, 100, 'Category', '', parent ? `<Prerequisites>${catGroup(parent)}</Prerequisites>` : '', installed(isInstalled)),
      extended:
        `<ExtendedProperties DefaultPropertiesLanguage="en" ` +
        `Handler="http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/Category" ` +
        `MaxDownloadSize="0" MinDownloadSize="0" /><HandlerSpecificData ` +
        `type="cat:Category"><CategoryInformation CategoryType="${type}" ` +
        `ProhibitsSubcategories="${type === 'Product'}" ProhibitsUpdates="` +
        `${type !== 'Product' && type !== 'UpdateClassification'}" DisplayOrder="0" ` +
        `/></HandlerSpecificData>`,
      titles: [['en', title]],
      pkg: {
        isLeaf: false,
        isBundle: false,
        action: 'Evaluate',
        categories: [],
        prereqs: parent ? [parent] : [],
        bundledBy: [],
        supersededBy: [],
        languages: [],
        payload: 0,
      },
    });
  category(MICROSOFT, 'Microsoft', 'Company', undefined, '<True />');
  const families = new Map<string, string>([['Windows', WINDOWS_FAMILY]]);
  for (const f of ['Office', 'Developer Tools, Runtimes, and Redistributables']) families.set(f, rng.guid());
  for (const [name, id] of families) category(id, name, 'ProductFamily', MICROSOFT, '<True />');
  for (const c of CLASSIFICATIONS) category(c.id, c.title, 'UpdateClassification', undefined, '<True />');
  const osCats = OS_PRODUCTS.map((o) => ({ o, id: rng.guid() }));
  for (const { o, id } of osCats) category(id, o.name, 'Product', WINDOWS_FAMILY, winVer('EqualTo', o, false, true));
  const appCats = APP_PRODUCTS.map((a) => ({ a, id: rng.guid() }));
  for (const { a, id } of appCats) category(id, a.name, 'Product', families.get(a.family), '<True />');

  // --- Detectoids, shared by many updates ---------------------------------------------------------------------
  const detectoid = (title: string, prereq: string | undefined, rule: string): string => {
    const id = rng.guid();
    addRev({
      updateId: id,
      revisionNumber: 200,
      core: coreXml(id, 200, 'Detectoid', '', prereq ? `<Prerequisites>${ident(prereq)}</Prerequisites>` : '', installed(rule)),
      extended: '<ExtendedProperties DefaultPropertiesLanguage="en" MaxDownloadSize="0" MinDownloadSize="0" />',
      titles: [['en', title]],
      pkg: {
        isLeaf: false,
        isBundle: false,
        action: 'Evaluate',
        categories: [],
        prereqs: prereq ? [prereq] : [],
        bundledBy: [],
        supersededBy: [],
        languages: [],
        payload: 0,
      },
    });
    return id;
  };
  const archDetectoid = new Map<number, string>();
  for (const a of [0, 9, 6, 12])
    archDetectoid.set(a, detectoid(`${ARCH_NAME[a]} processor`, undefined, `<b.Processor Architecture="${a}" />`));
  const osDetectoid = new Map<OsProduct, string>();
  for (const { o, id } of osCats) {
    osDetectoid.set(
      o,
      detectoid(
        `${o.name} installed`,
        id,
        `<And>${winVer('EqualTo', o, true, true)}<Not><b.RegKeyExists ` +
          `Key="HKEY_LOCAL_MACHINE" Subkey="SYSTEM\\Setup\\Upgrade" /></Not></And>`,
      ),
    );
  }
  const langDetectoid = new Map<string, string>();
  const LCID: Readonly<Record<string, string>> = { en: '0409', de: '0407', fr: '040C', ja: '0411' };
  for (const l of LANGS) {
    langDetectoid.set(
      l,
      detectoid(
        `Install language ${l}`,
        undefined,
        `<b.RegSz Key="HKEY_LOCAL_MACHINE" ` +
          `Subkey="SYSTEM\\CurrentControlSet\\Control\\Nls\\Language" ` +
          `Value="InstallLanguage" Comparison="EqualTo" Data="${LCID[l]}" />`,
      ),
    );
  }
  const officeCodes = new Map<string, string>();
  const appDetectoid = new Map<string, string>();
  for (const { a } of appCats) {
    let rule: string;
    if (a.kind === 'msi') {
      const code = `{${rng.guid().toUpperCase()}}`;
      officeCodes.set(a.name, code);
      rule = `<m.MsiProductInstalled ProductCode="${code}" VersionMin="${a.name.endsWith('2016') ? '16.0.0.0' : '15.0.0.0'}" />`;
    } else if (a.kind === 'dotnet') {
      rule =
        '<And><b.RegKeyExists Key="HKEY_LOCAL_MACHINE" Subkey="SOFTWARE\\Microsoft\\NET ' +
        'Framework Setup\\NDP\\v4\\Full" /><b.RegDword Key="HKEY_LOCAL_MACHINE" ' +
        'Subkey="SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full" ' +
        'Value="Release" Comparison="GreaterThanOrEqualTo" Data="528040" /></And>';
    } else {
      rule =
        '<And><b.RegKeyExists Key="HKEY_LOCAL_MACHINE" ' +
        'Subkey="SYSTEM\\CurrentControlSet\\Services\\WinDefend" /><Not><b.RegDword ' +
        'Key="HKEY_LOCAL_MACHINE" ' +
        'Subkey="SYSTEM\\CurrentControlSet\\Services\\WinDefend" Value="Start" ' +
        'Comparison="EqualTo" Data="4" /></Not><b.FileExists Path="Windows ' +
        'Defender\\MpClient.dll" Csidl="38" /></And>';
    }
    appDetectoid.set(a.name, detectoid(`${a.name} installed`, undefined, rule));
  }
  let detectoids = revs.filter((r) => r.pkg.action === 'Evaluate' && r.core.includes('"Detectoid"')).length;
  const categories = revs.length - detectoids;
  if (revs.length !== FIXED_REVISIONS) throw new Error(`generator: ${revs.length} fixed revisions, expected ${FIXED_REVISIONS}`);

  // --- Software updates: bundles with children, supersedence chains ------------------------------------------
  type Target = { kind: 'os'; o: OsProduct; cat: string } | { kind: 'app'; a: (typeof APP_PRODUCTS)[number]; cat: string };
  const targets: Target[] = [
    ...osCats.map(({ o, id }): Target => ({ kind: 'os', o, cat: id })),
    ...appCats.map(({ a, id }): Target => ({ kind: 'app', a, cat: id })),
  ];
  const lastInChain = new Map<string, Rev[]>(); // chain key → the newest bundles (one, or one per architecture)
  const month = new Map<Target, number>();
  let kb = 3_000_000 + rng.int(0, 99_999);
  let bundles = 0;
  const budget = opts.revisions;

  while (revs.length < budget) {
    if (budget - revs.length === 1) {
      // One revision left, too few for an update and its child: the last one is a detectoid (as real catalogs have
      // many), so the catalog has exactly the revisions asked for.
      detectoid(
        'Windows Update Agent 10 installed',
        undefined,
        '<b.FileVersion Path="\\wuaueng.dll" Csidl="37" Comparison="GreaterThanOrEqualTo" Version="10.0.0.0" />',
      );
      detectoids++;
      break;
    }
    const t = rng.pick(targets);
    const m = (month.get(t) ?? 0) + 1;
    month.set(t, m);
    const cls = rng.next() < 0.55 ? CLASSIFICATIONS[0] : rng.pick(CLASSIFICATIONS);
    const chainKey = `${t.cat}|${cls.id}|${rng.int(0, 2)}`;
    const prev = lastInChain.get(chainKey) ?? [];
    const bundleId = rng.guid();
    const bundleRid = newRid();
    const thisKb = ++kb;
    const name = t.kind === 'os' ? t.o.name : t.a.name;
    // The title's month and the CVE and bulletin years are the release date's (a target's m-th update is released in
    // week m), so "2016-06 Cumulative Update" is released in June 2016, as Microsoft's are in their month.
    const released = created(m);
    const ym = released.slice(0, 7);
    const year = Number(released.slice(0, 4));
    const title =
      cls.title === 'Security Updates' && t.kind === 'os' && t.o.cbs
        ? `${ym} Cumulative Update for ${name} (KB${thisKb})`
        : `${cls.title.replace(/s$/, '')} for ${name} (KB${thisKb})`;

    // Children: per architecture (OS) or per language (apps), grouped in one AtLeastOne.
    const variants: { arch?: number; lang?: string }[] =
      t.kind === 'os' ? t.o.archs.map((arch) => ({ arch })) : (rng.chance(0.3) ? [...LANGS] : ['en']).map((lang) => ({ lang }));
    const remaining = budget - revs.length - 1;
    const children = variants.slice(0, Math.max(1, Math.min(variants.length, remaining)));
    const childRevs: Rev[] = [];
    const ubrValue = rng.int(100, 5000);
    for (const v of children) {
      const cid = rng.guid();
      let isInstalled: string;
      let isInstallable: string;
      let metadata = '';
      let handler = 'http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/CommandLineInstallation';
      const prereqs: string[] = [];
      if (t.kind === 'os') {
        prereqs.push(archDetectoid.get(v.arch!)!);
        const arch = `<b.Processor Architecture="${v.arch}" />`;
        if (t.o.cbs) {
          handler = 'http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/Cbs';
          isInstalled =
            `<Or><And><CbsPackageInstalled /><Not><b.RegDword Key="HKEY_LOCAL_MACHINE" ` +
            `Subkey="SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based ` +
            `Servicing" Value="LCUReoffer" Comparison="EqualTo" Data="1" /></Not></And><And>` +
            `${winVer('EqualTo', t.o)}${ubr('GreaterThanOrEqualTo', ubrValue)}</And></Or>`;
          isInstallable = `<And><CbsPackageInstallable />${arch}</And>`;
          metadata =
            `<Metadata><CbsPackageApplicabilityMetadata><assembly ` +
            `xmlns="urn:schemas-microsoft-com:asm.v3" ` +
            `manifestVersion="1.0"><assemblyIdentity name="Package_for_RollupFix" version="` +
            `${t.o.build}.${ubrValue}.1.${rng.int(1, 9)}" processorArchitecture="` +
            `${CBS_ARCH[v.arch!]}" language="neutral" publicKeyToken="31bf3856ad364e35" ` +
            `/><package identifier="KB${thisKb}" releaseType="Security Update" ` +
            `restart="possible" /></assembly></CbsPackageApplicabilityMetadata></Metadata>`;
        } else {
          const f = rng.pick(SYSTEM_FILES);
          const ver = `${t.o.major}.${t.o.minor}.${t.o.build}.${rng.int(16000, 24000)}`;
          isInstalled =
            `<b.FileVersion Path="\\${f}" Csidl="` +
            `${v.arch === 0 || !rng.chance(0.2) ? 37 : 41}" ` +
            `Comparison="GreaterThanOrEqualTo" Version="${ver}" />`;
          isInstallable =
            `<And>${winVer('EqualTo', t.o, false)}${arch}<Or><b.FileExists Path="\\${f}" ` +
            `Csidl="37" /><Not><CbsPackageInstalledByIdentity PackageIdentity="Package_for_KB` +
            `${thisKb - rng.int(1, 500)}~31bf3856ad364e35~${CBS_ARCH[v.arch!]}~~${t.o.major}.` +
            `${t.o.minor}.1.0" /></Not></Or></And>`;
        }
      } else {
        prereqs.push(appDetectoid.get(t.a.name)!);
        if (v.lang && v.lang !== 'en') prereqs.push(langDetectoid.get(v.lang)!);
        if (t.a.kind === 'msi') {
          handler = 'http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/WindowsInstaller';
          const patch = `{${rng.guid()}}`;
          isInstalled =
            `<Or><m.MsiPatchInstalledForProduct PatchCode="${patch}" ProductCode="` +
            `${officeCodes.get(t.a.name)}" /><b.FileVersion Path="Microsoft ` +
            `Office\\root\\Office16\\mso.dll" Csidl="38" Comparison="GreaterThanOrEqualTo" ` +
            `Version="16.0.${rng.int(4000, 5500)}.1000" /></Or>`;
          isInstallable =
            `<And><m.MsiProductInstalled ProductCode="${officeCodes.get(t.a.name)}" ` +
            `/><Not><b.RegSz Key="HKEY_LOCAL_MACHINE" ` +
            `Subkey="SOFTWARE\\Microsoft\\Office\\ClickToRun\\Configuration" ` +
            `Value="Platform" Comparison="EqualTo" Data="x64" /></Not></And>`;
        } else if (t.a.kind === 'dotnet') {
          isInstalled =
            `<b.FileVersionPrependRegSz Key="HKEY_LOCAL_MACHINE" ` +
            `Subkey="SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full" ` +
            `Value="InstallPath" Path="System.dll" Comparison="GreaterThanOrEqualTo" ` +
            `Version="4.8.${rng.int(4000, 9300)}.0" />`;
          isInstallable =
            `<And><b.FileExistsPrependRegSz Key="HKEY_LOCAL_MACHINE" ` +
            `Subkey="SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full" ` +
            `Value="InstallPath" Path="mscorlib.dll" /><b.RegDword Key="HKEY_LOCAL_MACHINE" ` +
            `Subkey="SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full" ` +
            `Value="Release" Comparison="LessThan" Data="${533320 + rng.int(0, 200)}" /></And>`;
        } else {
          const sig = `1.${rng.int(300, 460)}.${rng.int(0, 999)}.0`;
          isInstalled =
            `<And><Not><b.RegDword Key="HKEY_LOCAL_MACHINE" ` +
            `Subkey="SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates" ` +
            `Value="SignatureType" Comparison="EqualTo" Data="1" ` +
            `/></Not><b.FileVersionPrependRegSz Path="mpasdlta.vdm" ` +
            `Comparison="GreaterThanOrEqualTo" Version="${sig}" Key="HKEY_LOCAL_MACHINE" ` +
            `Subkey="SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates" ` +
            `Value="SignatureLocation" /></And>`;
          isInstallable =
            `<And><Not><b.LicenseDword Value="CE163B38-1AEC-47AF-854D-FC90ABD6951C" ` +
            `Comparison="EqualTo" Data="1" /></Not><Not><b.RegValueExists ` +
            `Key="HKEY_LOCAL_MACHINE" Subkey="SOFTWARE\\Microsoft\\Windows ` +
            `Defender\\Diagnostics\\BlockedVersions\\Signatures" Value="${sig}" ` +
            `Type="REG_BINARY" /></Not></And>`;
        }
      }
      const suffix = v.arch !== undefined ? ` for ${ARCH_NAME[v.arch]}-based Systems` : ` (${v.lang})`;
      const c = addRev({
        updateId: cid,
        revisionNumber: 200,
        core: coreXml(
          cid,
          200,
          'Software',
          '',
          `<Prerequisites>${prereqs.map(ident).join('')}</Prerequisites>`,
          installed(isInstalled) + installable(isInstallable) + metadata,
        ),
        extended:
          `<ExtendedProperties DefaultPropertiesLanguage="en" Handler="${handler}" ` +
          `MaxDownloadSize="${rng.int(1, 900) * 1_000_000}" ` +
          `MinDownloadSize="0"><InstallationBehavior RebootBehavior="CanRequestReboot" ` +
          `/></ExtendedProperties><Files><File Digest="` +
          `${Buffer.from(cid).toString('base64').slice(0, 27)}=" DigestAlgorithm="SHA1" ` +
          `FileName="windows-kb${thisKb}.cab" Size="${rng.int(1, 900) * 1_000_000}" ` +
          `Modified="${released}" /></Files>`,
        titles: [['en', `${title}${suffix}`]],
        created: released,
        moreInfo: `https://support.microsoft.com/help/${thisKb}`,
        pkg: {
          isLeaf: true,
          isBundle: false,
          action: 'Bundle',
          categories: [],
          prereqs,
          bundledBy: [bundleRid],
          supersededBy: [],
          languages: v.lang ? [v.lang] : [],
          payload: 1,
        },
      });
      childRevs.push(c);
    }

    const supersedes = prev.map((p) => ident(p.updateId)).join('');
    const bundlePrereqs = [t.kind === 'os' ? osDetectoid.get(t.o)! : appDetectoid.get(t.a.name)!];
    const severity = cls.title === 'Security Updates' ? rng.pick(['Critical', 'Important', 'Important', 'Moderate', 'Low']) : '';
    const cves = severity ? Array.from({ length: rng.int(1, 4) }, () => `<CveID>CVE-${year}-${rng.int(1000, 49999)}</CveID>`).join('') : '';
    const bulletin = severity
      ? `<SecurityBulletinID>MS${year - 2000}-${String(rng.int(1, 200)).padStart(3, '0')}</SecurityBulletinID>`
      : '';
    const german = rng.chance(0.25);
    // As Microsoft publishes many OS updates: one KB, one update per architecture ("… for x64-based Systems (KB…)"),
    // each bundling its architecture's child. The rest bundle every variant in one update.
    const perArch = t.kind === 'os' && childRevs.length > 1 && budget - revs.length >= childRevs.length && rng.chance(0.4);
    const published: Rev[] = [];
    for (const kids of perArch ? childRevs.map((c) => [c]) : [childRevs]) {
      const rid = published.length === 0 ? bundleRid : newRid();
      const id = published.length === 0 ? bundleId : rng.guid();
      const archTitle = perArch
        ? title.replace(
            ` (KB${thisKb})`,
            ` for ${kids[0]!.titles[0]![1].match(/for (\S+)-based Systems$/)?.[1] ?? 'x64'}-based Systems (KB${thisKb})`,
          )
        : title;
      const group =
        kids.length > 1
          ? `<AtLeastOne>${kids.map((c) => `<UpdateIdentity UpdateID="${c.updateId}" RevisionNumber="200" />`).join('')}</AtLeastOne>`
          : `<UpdateIdentity UpdateID="${kids[0]!.updateId}" RevisionNumber="200" />`;
      for (const k of kids) k.pkg.bundledBy.splice(0, k.pkg.bundledBy.length, rid);
      const titles: [string, string][] = [['en', archTitle]];
      if (german) titles.push(['de', `${archTitle.replace('Update for', 'Update für')}`]);
      published.push(
        addRev(
          {
            updateId: id,
            revisionNumber: 200 + rng.int(0, 3),
            core: coreXml(
              id,
              200,
              'Software',
              ' ExplicitlyDeployable="true" AutoSelectOnWebSites="true"',
              (supersedes ? `<SupersededUpdates>${supersedes}</SupersededUpdates>` : '') +
                `<Prerequisites>${bundlePrereqs.map(ident).join('')}${catGroup(cls.id)}` +
                `${catGroup(t.cat)}</Prerequisites><BundledUpdates>${group}</BundledUpdates>`,
              '',
            ),
            extended:
              `<ExtendedProperties DefaultPropertiesLanguage="en"` +
              `${severity ? ` MsrcSeverity="${severity}"` : ''} ` +
              `IsBeta="false"><SupportUrl>https://support.microsoft.com/help/${thisKb}` +
              `</SupportUrl>${bulletin}<KBArticleID>${thisKb}</KBArticleID>${cves}` +
              `</ExtendedProperties>`,
            titles,
            created: released,
            moreInfo: `https://support.microsoft.com/help/${thisKb}`,
            pkg: {
              isLeaf: true,
              isBundle: true,
              categories: [
                ['UpdateClassification', cls.id],
                ['Product', t.cat],
                ['ProductFamily', t.kind === 'os' ? WINDOWS_FAMILY : families.get(t.a.family)!],
                ['Company', MICROSOFT],
              ],
              prereqs: [...bundlePrereqs, cls.id, t.cat],
              bundledBy: [],
              supersededBy: [],
              languages: [],
              payload: 0,
            },
          },
          rid,
        ),
      );
    }
    for (const p of prev) for (const b of published) p.pkg.supersededBy.push(b.revisionId);
    lastInChain.set(chainKey, published);
    bundles += published.length;
    opts.onProgress?.(revs.length, budget);
  }

  return writeCab(revs, opts, { bundles, detectoids, categories });
}

function packageXml(revs: readonly Rev[]): string[] {
  const parts: string[] = [
    '<?xml version="1.0" encoding="utf-8"?>\n<OfflineSyncPackage ' +
      'xmlns="http://schemas.microsoft.com/msus/2004/02/OfflineSync" ' +
      'MinimumClientVersion="5.8.0.2678" ' +
      'PackageId="c837c786-be39-4f17-8ec5-ede03ad2c80a" PackageVersion="1.1" ' +
      'ProtocolVersion="1.0" CreationDate="2024-01-09T16:25:52Z" ' +
      'SourceId="802cb907-a558-4033-9844-bbf65cd3481e"><Updates>',
  ];
  for (const r of [...revs].sort((a, b) => a.revisionId - b.revisionId)) {
    const p = r.pkg;
    let x =
      `<Update CreationDate="${r.created ?? '2016-01-01T00:00:00Z'}" ` +
      `DefaultLanguage="en" UpdateId="${r.updateId}" RevisionNumber="` +
      `${r.revisionNumber}" RevisionId="${r.revisionId}" IsLeaf="${p.isLeaf}"` +
      `${p.isBundle ? ' IsBundle="true"' : ''}` +
      `${p.action ? ` DeploymentAction="${p.action}"` : ''}>`;
    if (p.prereqs.length) x += `<Prerequisites>${p.prereqs.map((id) => `<UpdateId Id="${id}" />`).join('')}</Prerequisites>`;
    if (p.categories.length)
      x += `<Categories>${p.categories.map(([t, id]) => `<Category Type="${t}" Id="${id}" />`).join('')}</Categories>`;
    if (p.languages.length) x += `<Languages>${p.languages.map((l) => `<Language Name="${l}" />`).join('')}</Languages>`;
    if (p.payload) x += `<PayloadFiles><File Id="${Buffer.from(r.updateId).toString('base64').slice(0, 27)}=" /></PayloadFiles>`;
    if (p.bundledBy.length) x += `<BundledBy>${p.bundledBy.map((id) => `<Revision Id="${id}" />`).join('')}</BundledBy>`;
    if (p.supersededBy.length) x += `<SupersededBy>${p.supersededBy.map((id) => `<Revision Id="${id}" />`).join('')}</SupersededBy>`;
    parts.push(`${x}</Update>`);
  }
  parts.push('</Updates><FileLocations /></OfflineSyncPackage>');
  return parts;
}

function writeCab(revs: Rev[], opts: GenerateOptions, counts: { bundles: number; detectoids: number; categories: number }): GenerateResult {
  const work = mkdtempSync(join(tmpdir(), 'patchscan-corpus-'));
  let xmlBytes = 0;
  try {
    const sorted = [...revs].sort((a, b) => a.revisionId - b.revisionId);
    const perCab = opts.revisionsPerRangeCab ?? 15_000;
    const ranges: { name: string; start: number }[] = [];
    for (let i = 0, k = 2; i < sorted.length; i += perCab, k++) {
      const slice = sorted.slice(i, i + perCab);
      const name = `package${k}.cab`;
      ranges.push({ name, start: i === 0 ? 0 : slice[0]!.revisionId });
      const w = new CabWriter(join(work, name), { level: 6 });
      // Microsoft's order: all core fragments, then localized, then extended.
      for (const r of slice) w.add(`c/${r.revisionId}`, enc(r.core));
      for (const r of slice)
        for (const [lang, title] of r.titles)
          w.add(
            `l/${lang}/${r.revisionId}`,
            enc(
              `<LocalizedProperties><Language>${lang}</Language><Title>${esc(title)}` +
                `</Title><Description>` +
                `${esc(`Install this update to resolve issues in ${title}. For a complete listing of ` + `the issues that are included in this update, see the associated Microsoft ` + `Knowledge Base article.`)}` +
                `</Description><MoreInfoUrl>` +
                `${r.moreInfo ?? 'https://support.microsoft.com/help/'}` +
                `</MoreInfoUrl></LocalizedProperties>`,
            ),
          );
      for (const r of slice) w.add(`x/${r.revisionId}`, enc(r.extended));
      w.finish();
    }
    const pkg = new CabWriter(join(work, 'package.cab'), { level: 6 });
    const parts = packageXml(revs).map((p) => enc(p));
    pkg.addStream(
      'package.xml',
      parts,
      parts.reduce((n, p) => n + p.length, 0),
    );
    pkg.finish();
    const index =
      `<INDEX VERSION="1">\n    <CABLIST XOR="0">\n        <CAB NAME="package.cab" ` +
      `/>\n${ranges.map((r, i) => `        <CAB NAME="${r.name}" RANGESTART="${r.start}"` + `${i === 0 ? ' FILESDIR="1"' : ''} />`).join('\n')}` +
      `\n    </CABLIST>\n</INDEX>`;
    const outer = new CabWriter(opts.out, { level: 1 });
    outer.add('index.xml', enc(index));
    for (const name of ['package.cab', ...ranges.map((r) => r.name)])
      outer.addStream(name, readChunks(join(work, name)), statSync(join(work, name)).size);
    const bytes = outer.finish();
    return { revisions: revs.length, ...counts, rangeCabs: ranges.length, bytes, xmlBytes };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  function enc(s: string): Buffer {
    const b = Buffer.from(s, 'utf8');
    xmlBytes += b.length;
    return b;
  }
}
