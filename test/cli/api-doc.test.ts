/** docs/api.md's example, run as an embedder would: from the built package, imported as `patchscan`. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
    // Inside the package, so that `import … from 'patchscan'` resolves to this package (self-reference).
    const artifacts = join(ROOT, 'test', '.artifacts');
    mkdirSync(artifacts, { recursive: true });
    const file = join(artifacts, 'api-example.mjs');
    writeFileSync(file, code);
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8', cwd: ROOT });
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
});
