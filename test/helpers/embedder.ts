/**
 * Runs a script as an embedder of the package would: written inside it (test/.artifacts/), so that
 * `import … from 'patchscan'` resolves to this package's build (self-reference), and run by Node in a child process.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Writes `code` as test/.artifacts/`name` and runs it from the package's root; returns its standard output. */
export function runAsEmbedder(name: string, code: string, env: Record<string, string> = {}): string {
  const artifacts = join(ROOT, 'test', '.artifacts');
  mkdirSync(artifacts, { recursive: true });
  const file = join(artifacts, name);
  writeFileSync(file, code);
  return execFileSync(process.execPath, [file], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env } });
}
