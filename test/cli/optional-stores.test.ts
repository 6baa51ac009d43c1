/**
 * The database packages are optional dependencies (package.json): an embedder of the engine, or the CLI's engine
 * commands, run without them, and a site command says which package its store needs and how to get it. "Not
 * installed" is made real for the process: a module resolution hook (helpers/hide-packages.mjs) makes Node fail to find
 * them, as it does after `npm install --omit=optional` or a failed native build.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAsEmbedder } from '../helpers/embedder.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { runCli } from '../helpers/serve.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const HOOK = join(ROOT, 'test', 'helpers', 'hide-packages.mjs');
const without = (packages: string): Record<string, string> => ({
  PATCHSCAN_TEST_HIDE: packages,
  NODE_OPTIONS: `--import ${HOOK}`,
});
const PC = join(FIXTURES, 'inventories', 'win10-22h2-x64.json');

describe('without better-sqlite3, pg and pg-boss', () => {
  it('the CLI scans (no store involved)', () => {
    const r = runCli(['scan', '--catalog', bundledCatalogFile(), PC, '--format', 'json'], { env: without('better-sqlite3,pg,pg-boss') });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as unknown[]).length).toBeGreaterThan(0);
  });

  it('a SQLite site command says the package its store needs, and how to install it (exit 1)', () => {
    const dir = tempDir();
    const r = runCli(['init', '--data', join(dir, 'site')], { env: without('better-sqlite3') });
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'patchscan: STORE_UNAVAILABLE: a SQLite site store needs the better-sqlite3 package, which is not installed (an ' +
        'optional dependency of patchscan: installed with --omit=optional, or its install failed): run npm install better-sqlite3\n',
    );
    expect(existsSync(join(dir, 'site'))).toBe(false); // nothing made: no database, no empty site directory
  });

  // The store's modules import both packages, and which one Node reports missing first is not fixed: the message
  // names every one that is missing, whichever Node reported.
  it.each([
    [
      'pg',
      'the pg package, which is not installed (an optional dependency of patchscan: installed with --omit=optional, or its install failed)',
      'pg',
    ],
    [
      'pg-boss',
      'the pg-boss package, which is not installed (an optional dependency of patchscan: installed with --omit=optional, or its install failed)',
      'pg-boss',
    ],
    [
      'pg,pg-boss',
      'the pg and pg-boss packages, which are not installed (optional dependencies of patchscan: installed with --omit=optional, or their install failed)',
      'pg pg-boss',
    ],
  ])('a PostgreSQL site command without %s names what to install', (hidden, named, install) => {
    const r = runCli(['init', '--data', join(tempDir(), 'site'), '--database', 'postgres://127.0.0.1:5432/none'], {
      env: without(hidden),
    });
    expect(r.code).toBe(1);
    expect(r.err).toBe(`patchscan: STORE_UNAVAILABLE: a PostgreSQL site store needs ${named}: run npm install ${install}\n`);
  });

  it('a site command given no site says so, its PostgreSQL URL masked, without pg (exit 2)', () => {
    const dir = tempDir();
    const r = runCli(['client', 'list', '--data', join(dir, 'nosite'), '--database', 'postgres://u:secret@127.0.0.1:5432/x'], {
      env: without('pg,pg-boss'),
    });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^patchscan: NOT_FOUND: .*The database postgres:\/\/u:\*\*\*@127\.0\.0\.1:5432\/x was not opened/);
    expect(r.err).not.toMatch(/secret|Cannot find package/);
  });

  it('an embedder imports the engine and scans (none of the engine reaches a database package)', () => {
    const out = runAsEmbedder(
      'engine-only.mjs',
      `import { readFileSync } from 'node:fs';
import { Catalog, Scanner, decodeInventory, readCatalogFile } from 'patchscan';
const scanner = new Scanner(new Catalog(readCatalogFile(${JSON.stringify(bundledCatalogFile())})));
const rows = scanner.scan(decodeInventory(readFileSync(${JSON.stringify(PC)})));
console.log(rows.filter((r) => r.state === 'Required').length > 0 ? 'required found' : 'none');
`,
      without('better-sqlite3,pg,pg-boss'),
    );
    expect(out).toBe('required found\n');
  });
});
