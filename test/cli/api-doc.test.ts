/**
 * docs/api.md's example, run as an embedder would: from the built package, imported as `patchscan`; what the package
 * ships; and its published types, compiled as an embedder's TypeScript would be.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAsEmbedder } from '../helpers/embedder.js';
import { bundledCatalogFile } from '../helpers/bundled.js';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('docs/api.md', () => {
  it('the example runs: manifest, one machine scanned and explained, a fleet on two threads sharing a result set', () => {
    const doc = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
    const m = /<!-- api-example -->\s*```js\n([\s\S]*?)```/.exec(doc);
    expect(m, 'docs/api.md has an example').not.toBeNull();
    const code = m![1]
      .replace("'catalog.pscat'", JSON.stringify(bundledCatalogFile()))
      .replaceAll("'pc.json'", JSON.stringify(join(ROOT, 'test/fixtures/inventories/win10-22h2-x64.json')));
    const out = runAsEmbedder('api-example.mjs', code);
    expect(out).toMatch(/^catalog: \d+ revisions\n/);
    expect(out).toMatch(/\nmanifest: [1-9]\d* files, [1-9]\d* registry keys\n/);
    expect(out).toMatch(/\n\S+: [1-9]\d* needed of \d+ rows\n/);
    expect(out).toMatch(/\nState {5}Required\n/);
    // The two copies of one machine name the same result set; the third input is an error result, not an exception.
    const sets = [...out.matchAll(/: result set (\d+), required (\d+)\n/g)];
    expect(sets).toHaveLength(2);
    expect(sets[0][1]).toBe(sets[1][1]);
    expect(out).toMatch(/\ninventory 2: [A-Z_]+\n/);
    expect(out).toMatch(/\nshared: 1\n$/);
  }, 120_000); // a child process starting a worker pool

  it('the package ships the engine, the CLI, the bundled corpus and docs/, and none of the tests or benchmarks', () => {
    // --ignore-scripts: `prepare` would build again (pretest built dist/).
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    const files = new Set((JSON.parse(out) as [{ files: { path: string }[] }])[0].files.map((f) => f.path));
    for (const f of [
      'README.md',
      'package.json',
      'dist/engine/index.js',
      'dist/engine/index.d.ts',
      'dist/adapters/cli/bin.js',
      'dist/corpus/generate-catalog.js',
      'corpus/default/wsusscn2.cab',
      'docs/api.md',
      'docs/inventory.schema.json',
    ])
      expect(files, f).toContain(f);
    expect([...files].filter((f) => /^(dist\/)?(test|bench)\//.test(f))).toEqual([]);
  });

  it('the published types: error codes are ErrorCode, the constants the options name are exported, internals are not public', () => {
    const dir = join(ROOT, 'test', '.artifacts', 'types-consumer');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2023',
          strict: true,
          noEmit: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(dir, 'consumer.ts'),
      `import {
  Catalog, Scanner, readCatalogFile, createScannerPool, DEFAULT_MEMORY_BUDGET, TASK_RESULT_BYTES, workerHeapMb,
  ErrorCodes, type ErrorCode, type MachineResult,
} from 'patchscan';
const catalog = new Catalog(readCatalogFile('catalog.pscat'));
const scanner = new Scanner(catalog);
// @ts-expect-error the engine's own seam, not the API
scanner.machineScan;
// @ts-expect-error the engine's own seam, not the API
scanner.program;
export function meaning(r: MachineResult): string | undefined {
  if (r.ok) return undefined;
  const code: ErrorCode = r.error.code;
  return ErrorCodes[code];
}
export const budget: number = DEFAULT_MEMORY_BUDGET + TASK_RESULT_BYTES + workerHeapMb(catalog.size);
export const pool = createScannerPool({ catalog, memoryBudget: budget });
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 60_000);
});
