/** The README's promises, run as a user would: the library example works as written. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAsEmbedder } from '../helpers/embedder.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('README', () => {
  it('the library example runs and prints missing updates and an explanation', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const m = /<!-- library-example -->\s*```js\n([\s\S]*?)```/.exec(readme);
    expect(m, 'README has a library example').not.toBeNull();
    const dir = tempDir();
    execFileSync(process.execPath, [join(ROOT, 'dist/adapters/cli/bin.js'), 'demo', '--data-dir', join(dir, 'data')], { encoding: 'utf8' });
    const code = m![1]
      .replace("'patchscan-data/catalog.pscat'", JSON.stringify(join(dir, 'data', 'catalog.pscat')))
      .replace(
        "'test/fixtures/inventories/win10-22h2-x64.json'",
        JSON.stringify(join(ROOT, 'test/fixtures/inventories/win10-22h2-x64.json')),
      );
    const out = runAsEmbedder('readme-example.mjs', code);
    expect(out).toMatch(/^KB\d+ {2}.+\n {4}because /);
    expect(out).toMatch(/State {5}Required/);
  }, 60_000); // builds and runs the example in a child process

  it("the sync example's catalog hashes are the bundled sample's SHA-256 (the sample is regenerated when the generator changes)", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const sha = createHash('sha256')
      .update(readFileSync(join(ROOT, 'corpus/default/wsusscn2.cab')))
      .digest('hex');
    const short = /^Sync updated: new catalog ([0-9a-f]{16}) /m.exec(readme)?.[1];
    const whole = /^Sync unchanged: the catalog is unchanged \(SHA-256 ([0-9a-f]{64})\)$/m.exec(readme)?.[1];
    expect(whole).toBe(sha);
    expect(short).toBe(sha.slice(0, 16));
  });
});
