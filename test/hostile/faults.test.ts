/**
 * Crash safety: the real CLI and server run as child processes and are killed with SIGKILL at seeded random moments
 * during uploads, catalog sync (import + swap), batch scans and catalog import. After each kill the store opens and
 * passes SQLite's integrity check, the last good catalog loads and scans, every upload answered 202 is present, no
 * half-written file is ever under a name a user reads, and a rerun completes the work. Write failures (the file-size
 * limit, EFBIG — what a full disk looks like to a writer) give a clear error and leave the previous file intact.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../adapters/catalog/import.js';
import { upload } from '../../adapters/server/upload-client.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import Database from 'better-sqlite3';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { startServe } from '../helpers/serve.js';
import { setUpSite } from '../helpers/site-setup.js';
import { tempDir } from '../helpers/tmp.js';

const BIN = new URL('../../dist/adapters/cli/bin.js', import.meta.url).pathname;
const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;

/** A small seeded generator: the kill moments are reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32;
}

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

const killAfter = (p: ChildProcess, ms: number): Promise<number | null> =>
  new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });

/** SQLite's own check of the site database file, on a connection of its own. */
function integrity(site: Site): string {
  const db = new Database(join(site.dir, DEFAULT_CONFIG.database), { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

/** Names of the clients with a stored inventory, and of those scanned. */
async function storedAndScanned(site: Site): Promise<{ stored: string[]; scanned: Set<string> }> {
  const clients = await site.store.clients();
  const stored: string[] = [];
  for (const c of clients) if ((await site.store.inventoryCount(c.id)) > 0) stored.push(c.name);
  return { stored, scanned: new Set(clients.filter((c) => c.last_scan_at !== null).map((c) => c.name)) };
}

async function startServer(data: string): Promise<{ p: ChildProcess; url: string }> {
  const { child, url } = await startServe(data);
  return { p: child, url };
}

describe('SIGKILL during uploads, sync, batch scan and import', () => {
  const dir = tempDir();
  let catalogPath: string;
  let model: FleetModel;
  let second: string;

  beforeAll(() => {
    second = join(dir, 'second.cab');
    generateCatalog({ revisions: 4000, seed: 5, out: second });
  }, 60_000);

  async function newSite(name: string): Promise<Site> {
    const data = join(dir, name);
    writeConfig(data, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0', limits: { ...DEFAULT_CONFIG.limits, uploadsPerMinute: 100_000 } });
    const site = await Site.open(data);
    await setUpSite(site, { testComputer: 'T', syncHost: 'S', mainUnlimited: true, sync: true });
    return site;
  }

  it.each([1, 2, 3])(
    'uploads (seed %i): every 202 survives the kill; the restarted server scans them all',
    async (seed) => {
      const r = rng(seed);
      const site = await newSite(`upload-${seed}`);
      catalogPath = (await site.store.currentCatalog())!.path;
      model ??= new FleetModel(new Catalog(readCatalogFile(catalogPath)));
      const names = Array.from({ length: 60 }, (_, k) => `U${seed}-${k}`);
      const tokens: string[] = [];
      for (const n of names) tokens.push(await site.store.enroll(n));
      const data = site.dir;
      await site.close();

      const { p, url } = await startServer(data);
      const acked: string[] = [];
      const done = killAfter(p, 80 + Math.floor(r() * 500));
      // Four clients upload at once until the server dies under them.
      await Promise.all(
        [0, 1, 2, 3].map(async (lane) => {
          for (let k = lane; k < names.length; k += 4) {
            try {
              const res = await upload(
                url,
                tokens[k],
                Buffer.from(JSON.stringify({ ...model.machine(seed, k), computer: { name: names[k] } })),
                { timeoutMs: 5_000 },
              );
              if (res.status === 202) acked.push(names[k]);
            } catch {
              return; // connection refused or reset: the server was killed
            }
          }
        }),
      );
      await done;

      const after = await Site.open(data);
      expect(integrity(after)).toBe('ok');
      for (const n of acked) expect(await after.store.inventoryCount((await after.store.client(n))!.id), n).toBe(1);
      await after.close();
      // A rerun completes the work: the restarted server scans every stored upload.
      const again = await startServer(data);
      try {
        for (let i = 0; i < 600; i++) {
          const h = (await (await fetch(`${again.url}/healthz`)).json()) as {
            queue: { expedited: number; normal: number };
            running: number;
          };
          if (h.queue.expedited + h.queue.normal + h.running === 0) break; // nothing waiting, nothing being scanned
          await new Promise((res) => setTimeout(res, 50));
        }
        const check = await Site.open(data);
        const { stored, scanned } = await storedAndScanned(check);
        for (const n of stored) expect(scanned.has(n), n).toBe(true);
        await check.close();
      } finally {
        again.p.kill('SIGTERM');
        await new Promise((res) => again.p.on('exit', res));
      }
    },
    90_000,
  );

  it.each([1, 2, 3])(
    'sync (seed %i): the last good catalog stays usable, and a rerun completes the swap',
    async (seed) => {
      const r = rng(100 + seed);
      const site = await newSite(`sync-${seed}`);
      const good = (await site.store.currentCatalog())!;
      const drop = join(dir, `drop-${seed}`);
      mkdirSync(drop);
      copyFileSync(second, join(drop, 'wsusscn2.cab'));
      const data = site.dir;
      await site.close();

      await killAfter(cli(['sync', '--data', data, '--source', drop]), 50 + Math.floor(r() * 1500));

      const after = await Site.open(data);
      expect(integrity(after)).toBe('ok');
      const cur = (await after.store.currentCatalog())!;
      expect([good.sha256, sha256File(second)]).toContain(cur.sha256); // the old one or the new one, nothing else
      const c = new Catalog(readCatalogFile(cur.path)); // checksummed: a half-written file cannot load
      expect(new Scanner(c).scan(new FleetModel(c).machine(1, 0)).length).toBeGreaterThanOrEqual(0);
      await after.close();
      const rerun = spawnSync(process.execPath, [BIN, 'sync', '--data', data, '--source', drop], { encoding: 'utf8' });
      expect(rerun.status, rerun.stderr).toBe(0);
      expect(rerun.stdout).toMatch(/^Sync (updated|unchanged)/);
      const final = await Site.open(data);
      const fin = (await final.store.currentCatalog())!;
      expect(fin.revisions).toBe(new Catalog(readCatalogFile(fin.path)).size);
      expect(fin.sha256).not.toBe(good.sha256);
      await final.close();
    },
    60_000,
  );

  it.each([1, 2])(
    'batch scan (seed %i): OUT appears only complete; a rerun writes it',
    async (seed) => {
      const r = rng(200 + seed);
      const fleet = join(dir, `fleet-${seed}.jsonl`);
      const cat = join(dir, `cat-${seed}.pscat`);
      execFileSync(process.execPath, [BIN, 'catalog', 'import', BUNDLED, '-o', cat], { stdio: 'ignore' });
      execFileSync(process.execPath, [BIN, 'corpus', 'fleet', '-c', cat, '-n', '4000', '-s', String(seed), '-o', fleet], {
        stdio: 'ignore',
      });
      const out = join(dir, `rows-${seed}.jsonl`);
      const reference = join(dir, `reference-${seed}.jsonl`);
      execFileSync(process.execPath, [BIN, 'scan', '-c', cat, '-i', fleet, '-o', reference, '--threads', '1'], { stdio: 'ignore' });
      const code = await killAfter(cli(['scan', '-c', cat, '-i', fleet, '-o', out, '--threads', '1']), 300 + Math.floor(r() * 1500));
      // OUT exists only if the run got as far as publishing it (the kill may land just after): then it is complete.
      if (existsSync(out)) expect(readFileSync(out).equals(readFileSync(reference))).toBe(true);
      else expect(code).not.toBe(0);
      const rerun = spawnSync(process.execPath, [BIN, 'scan', '-c', cat, '-i', fleet, '-o', out, '--threads', '1'], { encoding: 'utf8' });
      expect(rerun.status, rerun.stderr).toBe(0);
      expect(rerun.stdout).toMatch(/^Scanned 4,000 machine\(s\)/);
      // Exactly what an uninterrupted run writes.
      expect(readFileSync(out).equals(readFileSync(reference))).toBe(true);
    },
    120_000,
  ); // two batch scans of a fleet, one killed: ~25 s quiet, far more on a busy machine

  it.each([1, 2])(
    'catalog import (seed %i): the file under the name is the old one or the new one, never half',
    async (seed) => {
      const r = rng(300 + seed);
      const out = join(dir, `import-${seed}.pscat`);
      execFileSync(process.execPath, [BIN, 'catalog', 'import', BUNDLED, '-o', out], { stdio: 'ignore' });
      const old = readCatalogFile(out).source.sha256;
      await killAfter(cli(['catalog', 'import', second, '-o', out]), 100 + Math.floor(r() * 1500));
      const now = readCatalogFile(out).source.sha256;
      expect([old, now]).toContain(now);
      execFileSync(process.execPath, [BIN, 'catalog', 'import', second, '-o', out], { stdio: 'ignore' });
      expect(readCatalogFile(out).source.sha256).not.toBe(old);
    },
    60_000,
  );
});

describe('write failures', () => {
  const dir = tempDir();
  /** Runs the CLI with a file-size limit and SIGXFSZ ignored: writes past it fail with EFBIG, as on a full disk. */
  const limited = (kb: number, args: string[]): { status: number | null; stderr: string } =>
    spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f ${kb}; exec "$0" "$@"`, process.execPath, BIN, ...args], { encoding: 'utf8' });

  it('catalog import that cannot write: a clear IO error, and the previous catalog is intact', () => {
    const out = join(dir, 'c.pscat');
    execFileSync(process.execPath, [BIN, 'catalog', 'import', BUNDLED, '-o', out], { stdio: 'ignore' });
    const before = readFileSync(out);
    const r = limited(64, ['catalog', 'import', BUNDLED, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^patchscan: IO: cannot (write the catalog to|unpack|write|create).*(EFBIG|File too large|file too large)/m);
    expect(readFileSync(out).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a batch scan that cannot write its results fails clearly and publishes nothing', () => {
    const cat = join(dir, 'c2.pscat');
    const fleet = join(dir, 'f.jsonl');
    execFileSync(process.execPath, [BIN, 'catalog', 'import', BUNDLED, '-o', cat], { stdio: 'ignore' });
    execFileSync(process.execPath, [BIN, 'corpus', 'fleet', '-c', cat, '-n', '500', '-o', fleet], { stdio: 'ignore' });
    const out = join(dir, 'rows.jsonl');
    const r = limited(64, ['scan', '-c', cat, '-i', fleet, '-o', out, '--threads', '0']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^patchscan: IO: cannot write the results to .*rows\.jsonl: .*(EFBIG|file too large)/i);
    expect(existsSync(`${out}.partial`)).toBe(false);
    expect(existsSync(out)).toBe(false);
  });

  it('a site directory that cannot be created is a clear IO error', () => {
    writeFileSync(join(dir, 'not-a-dir'), 'x');
    const r = spawnSync(process.execPath, [BIN, 'init', '--data', join(dir, 'not-a-dir', 'site')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^patchscan: IO: /);
  });
});

describe('the site database cannot be written (disk full)', () => {
  const dir = tempDir();
  it('uploads get 503 with a clear message, never a 500; every 202 is in the database afterwards', async () => {
    const data = join(dir, 'site');
    writeConfig(data, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0', limits: { ...DEFAULT_CONFIG.limits, uploadsPerMinute: 100_000 } });
    const site = await Site.open(data);
    await setUpSite(site, { testComputer: 'T', syncHost: 'S' });
    const inv = JSON.parse(readFileSync(new URL('../fixtures/inventories/win10-22h2-x64.json', import.meta.url), 'utf8')) as {
      computer: { name: string };
    };
    const names = Array.from({ length: 400 }, (_, k) => `FULL-${k}`);
    const tokens: string[] = [];
    for (const n of names) tokens.push(await site.store.enroll(n));
    await site.close(); // closing the last connection checkpoints the WAL into the database file
    // Files of the server may grow ~300 KiB past the database's size now: then writes fail with EFBIG.
    const kb = Math.ceil(readFileSync(join(data, 'patchscan.db')).length / 1024) + 300;
    const { child: p, url } = await startServe(data, { shell: `trap '' XFSZ; ulimit -f ${kb}` });
    const acked: string[] = [];
    const statuses = new Map<number, number>();
    let message = '';
    for (let k = 0; k < names.length; k++) {
      const r = await upload(url, tokens[k], Buffer.from(JSON.stringify({ ...inv, computer: { name: names[k] } })), { gzip: false });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 202) acked.push(names[k]);
      else message = (r.body.error as { message: string }).message;
    }
    p.kill('SIGKILL');
    await new Promise((r) => p.on('exit', r));
    expect([...statuses.keys()].sort()).toEqual([202, 503]);
    expect(message).toMatch(
      /^the site database cannot be written now \(SQLITE_(FULL|IOERR)[A-Z_]*: disk full, read-only or busy\); nothing was stored — send it again later$/,
    );
    const after = await Site.open(data);
    expect(integrity(after)).toBe('ok');
    for (const n of acked) expect(await after.store.inventoryCount((await after.store.client(n))!.id), n).toBe(1);
    await after.close();
  }, 60_000);
});
