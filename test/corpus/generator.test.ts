/** The corpus generator writes a real, deterministic wsusscn2.cab with the structure real catalogs have. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importCatalog } from '../../adapters/catalog/import.js';
import { CabReader } from '../../adapters/cab/reader.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { BUNDLED } from '../helpers/site-setup.js';
import { tempDir } from '../helpers/tmp.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const sha = (p: string): string => sha256(readFileSync(p));

describe('corpus generator', () => {
  const dir = tempDir();
  let c: Catalog;

  beforeAll(() => {
    generateCatalog({ revisions: 4000, seed: 42, out: join(dir, 'a.cab'), revisionsPerRangeCab: 1500 });
    c = new Catalog(importCatalog(join(dir, 'a.cab'), { out: join(dir, 'a.pscat') }).catalog);
  });

  it('is deterministic from the seed, and the seed matters', () => {
    generateCatalog({ revisions: 4000, seed: 42, out: join(dir, 'b.cab'), revisionsPerRangeCab: 1500 });
    generateCatalog({ revisions: 4000, seed: 43, out: join(dir, 'c.cab'), revisionsPerRangeCab: 1500 });
    expect(sha(join(dir, 'b.cab'))).toBe(sha(join(dir, 'a.cab')));
    expect(sha(join(dir, 'c.cab'))).not.toBe(sha(join(dir, 'a.cab')));
  });

  it("the bundled sample (corpus/default/wsusscn2.cab) holds the generator's output for 3,000 revisions, seed 1", () => {
    // A generator change that changes its output regenerates the sample too (and the README's SHA-256 of it):
    //   npx patchscan corpus catalog -n 3000 -s 1 -o corpus/default/wsusscn2.cab
    // Compared file by file, decompressed (nested cabinets too): the compressed bytes are zlib's, which a Node release
    // may change without the generator changing.
    generateCatalog({ revisions: 3000, seed: 1, out: join(dir, 'bundled.cab') });
    const files = (cab: string, into: string): Map<string, string> => {
      const out = new Map<string, string>();
      const r = CabReader.open(cab);
      for (const e of r.files()) {
        // Each folder decoded once (files()); readAll by name decodes its folder from the start each time.
        const bytes = Buffer.concat([...e.chunks()].map((c) => Buffer.from(c)));
        if (!e.name.endsWith('.cab')) out.set(e.name, sha256(bytes));
        else {
          const inner = join(into, `${out.size}-${e.name}`);
          writeFileSync(inner, bytes);
          for (const [name, digest] of files(inner, into)) out.set(`${e.name}/${name}`, digest);
        }
      }
      r.close();
      return out;
    };
    const made = files(join(dir, 'bundled.cab'), dir);
    expect(made.size).toBeGreaterThan(3000); // index.xml, package.xml and the fragments of 3,000 revisions
    expect(files(BUNDLED, dir)).toEqual(made);
  });

  it('has the real layout: index.xml, package.cab, range cabinets (MSZIP), verified by cabextract', () => {
    const r = CabReader.open(join(dir, 'a.cab'));
    expect(r.entries.map((e) => e.name)).toEqual(['index.xml', 'package.cab', 'package2.cab', 'package3.cab', 'package4.cab']);
    expect(r.directory.folders.every((f) => f.method === 'mszip')).toBe(true);
    const index = r.readAll('index.xml').toString();
    r.close();
    expect(index).toMatch(/<CAB NAME="package2.cab" RANGESTART="0" FILESDIR="1" \/>/);
    expect(index).toMatch(/<CAB NAME="package3.cab" RANGESTART="\d+" \/>/);
    expect(execFileSync('cabextract', ['-t', join(dir, 'a.cab')], { encoding: 'utf8' })).toContain('All done, no errors.');
  });

  it('imports completely: exactly the requested revisions, nothing missing or unresolved', () => {
    expect(c.size).toBe(4000);
    expect(c.data.stats).toMatchObject({ missingCore: 0, orphanFragments: 0, unresolvedReferences: 0, unsupportedRules: {} });
  });

  it('has the category tree and detectoids shared by many updates', () => {
    const types = Array.from({ length: c.size }, (_, i) => c.categoryType(i)).filter(Boolean);
    for (const t of ['Company', 'ProductFamily', 'Product', 'UpdateClassification']) expect(types).toContain(t);
    const detectoids = Array.from({ length: c.size }, (_, i) => i).filter((i) => c.updateType(i) === 'Detectoid');
    const mostShared = Math.max(...detectoids.map((d) => c.dependents(d).length));
    expect(mostShared).toBeGreaterThan(300);
  });

  it('has bundles whose children vary per architecture (AtLeastOne) and point back (BundledBy)', () => {
    const bundles = Array.from({ length: c.size }, (_, i) => i).filter((i) => c.isBundle(i));
    const multi = bundles.find((b) => c.bundledUpdates(b)[0]?.kind === 'atLeastOne' && c.bundledUpdates(b)[0].members.length >= 3)!;
    expect(multi).toBeDefined();
    for (const m of c.bundledUpdates(multi)[0].members) {
      expect(c.deploymentAction(m.index)).toBe('Bundle');
      expect(c.bundledBy(m.index).map((r) => r.index)).toEqual([multi]);
    }
  });

  it('publishes some KBs as one update per architecture (as Microsoft does), each with its release date, CVEs and More-info link', () => {
    const byKb = new Map<string, number[]>();
    for (let i = 0; i < c.size; i++) if (c.isReportable(i) && c.kb(i)) byKb.set(c.kb(i), [...(byKb.get(c.kb(i)) ?? []), i]);
    const several = [...byKb.entries()].filter(([, xs]) => xs.length > 1);
    expect(several.length).toBeGreaterThan(20);
    expect(several.length).toBeLessThan(byKb.size); // most KBs are one update
    for (const [kb, xs] of several) {
      // One per architecture: the titles name different ones, the KB ends each title, they share date, CVEs and link.
      const archs = xs.map((i) => /for (\S+)-based Systems \(KB\d+\)$/.exec(c.title(i))?.[1]);
      expect(new Set(archs).size, kb).toBe(xs.length);
      expect(
        archs.every((a) => a !== undefined),
        kb,
      ).toBe(true);
      expect(
        c
          .findByKb(kb)
          .filter((i) => c.isReportable(i))
          .sort(),
      ).toEqual([...xs].sort());
      expect(new Set(xs.map((i) => c.releaseDate(i))).size, kb).toBe(1);
      expect(new Set(xs.map((i) => c.cves(i).join())).size, kb).toBe(1);
      for (const i of xs) expect(c.moreInfoUrl(i)).toBe(`https://support.microsoft.com/help/${kb}`);
    }
    // Release dates move with the months of the generated history.
    const dates = new Set([...byKb.values()].flat().map((i) => c.releaseDate(i)));
    expect(dates.size).toBeGreaterThan(20);
    expect([...dates].every((d) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(d))).toBe(true);
  });

  it("names a cumulative update's month, and its CVEs' year, by its release date", () => {
    let monthly = 0,
      withCves = 0;
    for (let i = 0; i < c.size; i++) {
      if (!c.isReportable(i)) continue;
      const released = c.releaseDate(i);
      const month = /^(\d{4}-\d{2}) Cumulative Update/.exec(c.title(i))?.[1];
      if (month !== undefined) {
        monthly++;
        expect(released.slice(0, 7), c.title(i)).toBe(month);
      }
      const cves = c.cves(i);
      if (cves.length > 0) withCves++;
      for (const cve of cves) expect(cve.slice(4, 8), `${c.title(i)} ${cve}`).toBe(released.slice(0, 4));
    }
    expect(monthly).toBeGreaterThan(50);
    expect(withCves).toBeGreaterThan(50);
  });

  it('has supersedence chains several links long', () => {
    let longest = 0;
    for (let i = 0; i < c.size; i++) {
      if (c.supersedes(i).length > 0) continue; // start of a chain
      let n = 0;
      for (let k = i; c.supersededBy(k).length > 0; k = c.supersededBy(k)[0].index) n++;
      longest = Math.max(longest, n);
    }
    expect(longest).toBeGreaterThanOrEqual(5);
  });

  it('uses the rule shapes of real catalogs', () => {
    const used = c.ruleTypeCounts();
    for (const t of [
      'WindowsVersion',
      'RegDword',
      'FileVersion',
      'FileExistsPrependRegSz',
      'FileVersionPrependRegSz',
      'RegSz',
      'MsiProductInstalled',
      'CbsPackageInstalled',
      'CbsPackageInstalledByIdentity',
      'Processor',
      'LicenseDword',
      'And',
      'Or',
      'Not',
    ]) {
      expect(used[t], t).toBeGreaterThan(0);
    }
    const csidl = Array.from({ length: c.data.facts.count }, (_, f) => c.fact(f))
      .filter((f) => f.kind === 'file')
      .map((f) => f.args[0]);
    expect(csidl).toContain('37');
  });
});
