/**
 * Catalog import: wsusscn2.cab (or a folder holding its extracted contents) → compiled catalog file.
 *
 *   outer CAB → index.xml → package.cab/package.xml (streamed) → range CABs (c/, x/, l/<lang>/ fragments)
 *
 * Everything streams: the outer cabinet is unpacked to a scratch directory entry by entry, package.xml is fed to
 * a SAX parser in chunks, and each fragment is parsed and compiled as it is read. Peak memory is the compiled
 * catalog under construction, not the XML.
 *
 * From a cabinet, the import reads exactly the entries the cabinet lists, unpacked into a scratch directory of its
 * own made empty for this import (and removed afterwards, whatever happens): a file some earlier or concurrent
 * import left nearby is never mistaken for part of this cabinet.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, sep } from 'node:path';
import { CatalogBuilder } from '../../engine/catalog/builder.js';
import type { CatalogData, CatalogSource } from '../../engine/catalog/data.js';
import { writeCatalogFile } from '../../engine/catalog/file.js';
import { buildScanIndex } from '../../engine/fleet/scan-index.js';
import { PatchscanError, ioError } from '../../engine/errors.js';
import { extractCab } from '../cab/extract.js';
import { CabReader } from '../cab/reader.js';
import { readChunks } from '../fs/chunks.js';
import { decodeUtf8 } from '../xml/dom.js';
import { parseSoftwareDistributionPackage } from '../xml/sdp.js';
import { parseIndexXml, type CabIndex } from '../xml/index-xml.js';
import { parseCoreFragment, parseExtendedFragment, parseLocalizedFragment } from '../xml/fragments.js';
import { PackageXmlParser, type PackageInfo } from '../xml/package-xml.js';

export type ImportPhase = 'hash' | 'unpack' | 'package' | 'fragments' | 'compile' | 'write';

export interface ImportProgress {
  readonly phase: ImportPhase;
  readonly done: number;
  readonly total: number;
  readonly unit: 'bytes' | 'files' | 'steps';
  readonly detail?: string;
}

export interface ImportOptions {
  /** Where the compiled catalog goes (written atomically). */
  readonly out: string;
  /**
   * Where the outer cabinet is unpacked: a fresh, empty directory is made inside this one (default: next to `out`)
   * for this import alone, and removed afterwards. Nothing else in `workDir` is read or removed.
   */
  readonly workDir?: string;
  readonly onProgress?: (p: ImportProgress) => void;
  /** Largest single fragment accepted, bytes (real CBS core fragments reach ~47 MB). */
  readonly maxFragmentBytes?: number;
  /**
   * Third-party update packages (SCUP / WSUS local publishing `SoftwareDistributionPackage` files, e.g. a vendor's
   * driver catalog) compiled beside Microsoft's updates. The catalog's source hash stays that of `input`.
   */
  readonly packages?: readonly string[];
}

export interface ImportResult {
  readonly catalog: CatalogData;
  readonly outBytes: number;
  readonly xmlBytes: number;
  readonly seconds: number;
}

const FRAGMENT = /^(c|x|l\/([A-Za-z0-9-]+))\/(\d+)$/;

/** Progress is reported after about this many bytes (or at a phase's end), not per chunk or fragment. */
const PROGRESS_BYTES = 256 * 1024;

/** The uncompressed size of a cabinet's entries (those `keep` accepts), from its directory alone. */
function uncompressedSize(cabPath: string, keep: (name: string) => boolean = () => true): number {
  let total = 0;
  for (const reader of CabReader.openAll(cabPath)) {
    try {
      for (const e of reader.entries) if (keep(e.name)) total += e.size;
    } finally {
      reader.close();
    }
  }
  return total;
}

export function sha256File(path: string, onBytes: (n: number) => void = () => undefined): string {
  const h = createHash('sha256');
  let pos = 0;
  for (const chunk of readChunks(path, 4 << 20)) {
    h.update(chunk);
    pos += chunk.length;
    onBytes(pos);
  }
  return h.digest('hex');
}

function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(root, p).split('\\').join('/'));
    }
  };
  walk(root);
  return out.sort();
}

/** Digest of a folder: each file's relative name and bytes, in name order. */
function sha256Folder(root: string): string {
  const h = createHash('sha256');
  for (const f of listTree(root)) {
    h.update(f)
      .update('\0')
      .update(readFileSync(join(root, f)));
  }
  return h.digest('hex');
}

function findFile(dir: string, name: string): string | undefined {
  const want = name.toLowerCase();
  const hit = readdirSync(dir).find((f) => f.toLowerCase() === want);
  return hit ? join(dir, hit) : undefined;
}

class Importer {
  readonly builder = new CatalogBuilder();
  xmlBytes = 0;
  packageInfo: PackageInfo = {};
  /** Whether a package.xml was read (a folder of fragments alone has none). */
  packageRead = false;
  private readonly maxFragment: number;

  constructor(private readonly opts: ImportOptions) {
    this.maxFragment = opts.maxFragmentBytes ?? 128 * 1024 * 1024;
  }

  progress(p: ImportProgress): void {
    this.opts.onProgress?.(p);
  }

  private packageParser(source: string): PackageXmlParser {
    this.packageRead = true;
    return new PackageXmlParser(source, {
      onPackage: (info) => {
        this.packageInfo = info;
      },
      onUpdate: (e) => this.builder.addPackageEntry(e),
      onFileLocations: (n) => this.builder.setFileLocations(n),
    });
  }

  /** Streams package.xml out of its cabinet into the SAX parser. */
  readPackageCab(cabPath: string): void {
    const reader = CabReader.open(cabPath);
    try {
      const entry = reader.entries.find((e) => e.name.toLowerCase() === 'package.xml');
      if (!entry) throw new PatchscanError('CATALOG_MISSING_FILE', `${cabPath}: holds no package.xml`, { file: cabPath });
      const parser = this.packageParser(`${basename(cabPath)}/package.xml`);
      for (const f of reader.files()) {
        if (f.name.toLowerCase() !== 'package.xml') continue;
        let done = 0;
        for (const chunk of f.chunks()) {
          parser.write(chunk);
          done += chunk.length;
          this.progress({ phase: 'package', done, total: f.size, unit: 'bytes', detail: `${parser.updates} updates` });
        }
        this.xmlBytes += done;
      }
      parser.end();
    } finally {
      reader.close();
    }
  }

  readPackageXml(path: string): void {
    const parser = this.packageParser(path);
    const size = statSync(path).size;
    let pos = 0;
    for (const chunk of readChunks(path)) {
      parser.write(chunk);
      pos += chunk.length;
      this.progress({ phase: 'package', done: pos, total: size, unit: 'bytes', detail: `${parser.updates} updates` });
    }
    this.xmlBytes += pos;
    parser.end();
  }

  /** Routes one fragment by its path (`c/123`, `x/123`, `l/en/123`); other entries are ignored. */
  fragment(name: string, text: string, source: string): boolean {
    const m = FRAGMENT.exec(name);
    if (!m) return false;
    const rid = Number(m[3]);
    this.xmlBytes += Buffer.byteLength(text);
    if (m[1] === 'c') this.builder.addCore(rid, parseCoreFragment(text, source));
    else if (m[1] === 'x') this.builder.addExtended(rid, parseExtendedFragment(text, source));
    else this.builder.addLocalized(rid, parseLocalizedFragment(text, source));
    return true;
  }

  /**
   * Fragments are compiled in the order the cabinet yields them; x/ and l/ need their update first. `counter`
   * adds up the fragment bytes read across every range cabinet, for progress.
   */
  readRangeCab(cabPath: string, label: string, counter: { done: number; readonly total: number }): void {
    const reader = CabReader.open(cabPath);
    const deferred: [string, string, string][] = [];
    let reported = -Infinity;
    try {
      for (const f of reader.files()) {
        if (!FRAGMENT.test(f.name)) continue;
        if (f.size > this.maxFragment) {
          throw new PatchscanError(
            'CATALOG_BAD_FORMAT',
            `${label}/${f.name}: fragment of ${f.size} bytes exceeds the limit of ${this.maxFragment}`,
            { file: `${label}/${f.name}` },
          );
        }
        const parts: Buffer[] = [];
        for (const c of f.chunks()) parts.push(Buffer.from(c));
        const source = `${label}/${f.name}`;
        const text = decodeUtf8(Buffer.concat(parts), source);
        // A core fragment creates its update; extended and localized data for a RevisionId that package.xml
        // did not list can only attach once its core is known, which may come later in the same cabinet.
        const rid = Number(FRAGMENT.exec(f.name)![3]);
        if (f.name.startsWith('c/') || this.builder.has(rid)) this.fragment(f.name, text, source);
        else deferred.push([f.name, text, source]);
        counter.done += f.size;
        if (counter.done - reported >= PROGRESS_BYTES) {
          reported = counter.done;
          this.progress({ phase: 'fragments', done: counter.done, total: counter.total, unit: 'bytes', detail: label });
        }
      }
      for (const [name, text, source] of deferred) this.fragment(name, text, source);
    } finally {
      reader.close();
    }
  }

  /** Loose fragment files, `[name, path]` in name order: core fragments first (x/ and l/ attach to them). */
  readFragmentFiles(list: readonly (readonly [string, string])[]): void {
    const files = list.filter(([f]) => FRAGMENT.test(f));
    files.sort(([a], [b]) => Number(!a.startsWith('c/')) - Number(!b.startsWith('c/')));
    files.forEach(([f, path], i) => {
      this.fragment(f, decodeUtf8(readFileSync(path), path), path);
      if ((i & 255) === 0) this.progress({ phase: 'fragments', done: i, total: files.length, unit: 'files' });
    });
    this.progress({ phase: 'fragments', done: files.length, total: files.length, unit: 'files' });
  }
}

/**
 * Imports `input` (wsusscn2.cab, or a folder with index.xml + package.cab/package.xml + range cabinets, or with
 * c/ x/ l/ fragment folders) and writes the compiled catalog to `opts.out`.
 */
export function importCatalog(input: string, opts: ImportOptions): ImportResult {
  const started = performance.now();
  let st;
  try {
    st = statSync(input);
  } catch (e) {
    throw ioError('read', input, e);
  }
  const imp = new Importer(opts);
  let work: string | undefined;
  let sourceKind: CatalogSource['kind'];
  let sha256: string;
  try {
    // What the import may read. A folder: its files, as they are. A cabinet: the entries it lists and nothing else.
    let find: (name: string) => string | undefined;
    let hasFragmentTree: boolean;
    let fragmentFiles: () => [string, string][];
    if (st.isDirectory()) {
      sourceKind = 'folder';
      imp.progress({ phase: 'hash', done: 0, total: 1, unit: 'steps' });
      sha256 = sha256Folder(input);
      imp.progress({ phase: 'hash', done: 1, total: 1, unit: 'steps' });
      find = (name) => findFile(input, name);
      hasFragmentTree = existsSync(join(input, 'c'));
      fragmentFiles = () => listTree(input).map((f) => [f, join(input, f)]);
    } else {
      sourceKind = 'cab';
      sha256 = sha256File(input, (n) => imp.progress({ phase: 'hash', done: n, total: st.size, unit: 'bytes' }));
      let parent: string;
      if (opts.workDir) {
        parent = opts.workDir;
        try {
          mkdirSync(parent, { recursive: true });
        } catch (e) {
          throw ioError('create directory', parent, e);
        }
      } else {
        parent = existsSync(dirname(opts.out)) ? dirname(opts.out) : tmpdir();
      }
      try {
        work = mkdtempSync(join(parent, '.patchscan-import-'));
      } catch (e) {
        throw ioError('create a scratch directory in', parent, e);
      }
      const unpacked = work;
      // The bytes unpacked are the entries' uncompressed sizes (not the cabinet's compressed size), reported as
      // each chunk is written so the phase moves within a large entry too.
      const unpackTotal = uncompressedSize(input);
      let lastUnpack = -Infinity;
      const listed = extractCab(input, unpacked, {
        onChunk: (entry, bytes) => {
          if (bytes - lastUnpack < PROGRESS_BYTES) return;
          lastUnpack = bytes;
          imp.progress({ phase: 'unpack', done: bytes, total: unpackTotal, unit: 'bytes', detail: entry });
        },
        onProgress: (entry, bytes) => imp.progress({ phase: 'unpack', done: bytes, total: unpackTotal, unit: 'bytes', detail: entry }),
      });
      // Entry name ('/'-separated, as extracted) → its file; looked up case-insensitively, like the folder case.
      const entries = new Map<string, string>();
      const byLowerName = new Map<string, string>();
      for (const f of listed) {
        const name = relative(unpacked, f.path).split(sep).join('/');
        entries.set(name, f.path);
        if (!byLowerName.has(name.toLowerCase())) byLowerName.set(name.toLowerCase(), f.path);
      }
      find = (name) => byLowerName.get(name.split('\\').join('/').toLowerCase());
      hasFragmentTree = [...entries.keys()].some((n) => n.startsWith('c/'));
      fragmentFiles = () => [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    }

    const indexPath = find('index.xml');
    let index: CabIndex | undefined;
    if (indexPath) index = parseIndexXml(decodeUtf8(readFileSync(indexPath), indexPath), indexPath);

    const packageXml = find('package.xml');
    const packageCab = find(index?.packageCab ?? 'package.cab');
    if (packageXml) imp.readPackageXml(packageXml);
    else if (packageCab) imp.readPackageCab(packageCab);
    else if (!hasFragmentTree) {
      throw new PatchscanError('CATALOG_MISSING_FILE', `${input}: no package.cab or package.xml (and no c/ fragment folder) found`, {
        file: input,
      });
    }

    if (index) {
      // Progress in fragment bytes across every range cabinet (sizes from their directories, read up front): a few
      // large cabinets would otherwise make the phase jump from one to the next.
      const ranges = index.ranges.map((r) => {
        const p = find(r.name);
        if (!p)
          throw new PatchscanError('CATALOG_MISSING_FILE', `${input}: index.xml lists ${r.name}, which is missing`, {
            file: input,
            entry: r.name,
          });
        return { name: r.name, path: p };
      });
      const fragmentBytes = ranges.reduce((a, r) => a + uncompressedSize(r.path, (name) => FRAGMENT.test(name)), 0);
      const counter = { done: 0, total: fragmentBytes };
      for (const r of ranges) imp.readRangeCab(r.path, r.name, counter);
      imp.progress({ phase: 'fragments', done: counter.done, total: counter.total, unit: 'bytes' });
    }
    if (hasFragmentTree) imp.readFragmentFiles(fragmentFiles());
    if (!index && !hasFragmentTree) {
      throw new PatchscanError('CATALOG_MISSING_FILE', `${input}: no index.xml, so the fragment cabinets cannot be found`, { file: input });
    }

    const thirdParty: { path: string; sha256: string }[] = [];
    for (const path of opts.packages ?? []) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (e) {
        throw ioError('read the update package', path, e);
      }
      imp.builder.addRecord(parseSoftwareDistributionPackage(decodeUtf8(bytes, path), path));
      thirdParty.push({ path, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    // Compiling is one synchronous step of unknown length: shown as running, then as done (with its time).
    imp.progress({ phase: 'compile', done: 0, total: 1, unit: 'steps' });
    const p = imp.packageInfo;
    const source: CatalogSource = {
      kind: sourceKind,
      path: input,
      sha256,
      ...(thirdParty.length > 0 ? { thirdParty } : {}),
      package: {
        ...(p.packageId ? { packageId: p.packageId } : {}),
        ...(p.packageVersion ? { packageVersion: p.packageVersion } : {}),
        ...(p.protocolVersion ? { protocolVersion: p.protocolVersion } : {}),
        ...(p.creationDate ? { creationDate: p.creationDate } : {}),
        ...(p.minimumClientVersion ? { minimumClientVersion: p.minimumClientVersion } : {}),
      },
    };
    const catalog = imp.builder.build(source);
    if (catalog.updates.count === 0) {
      throw new PatchscanError('CATALOG_BAD_FORMAT', `${input}: the catalog holds no updates`, { file: input });
    }
    // Fragments describe updates, but package.xml gives their bundles, categories and supersedence: one that lists
    // none of them while fragments are there is damaged, and a catalog built from the fragments alone would be wrong.
    if (imp.packageRead && catalog.stats.packageUpdates === 0 && catalog.stats.orphanFragments > 0)
      throw new PatchscanError(
        'CATALOG_BAD_FORMAT',
        `${input}: package.xml lists no updates, while ${catalog.stats.orphanFragments} fragment(s) describe some: package.xml is damaged or not this catalog's`,
        { file: input },
      );
    imp.progress({ phase: 'compile', done: 1, total: 1, unit: 'steps' });
    imp.progress({ phase: 'write', done: 0, total: 1, unit: 'steps' });
    // With what every scan of the file would otherwise build before its first machine (~0.3 s for 50,000 revisions).
    const outBytes = writeCatalogFile(opts.out, catalog, { scanIndex: buildScanIndex });
    imp.progress({ phase: 'write', done: 1, total: 1, unit: 'steps' });
    return { catalog, outBytes, xmlBytes: imp.xmlBytes, seconds: (performance.now() - started) / 1000 };
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
}
