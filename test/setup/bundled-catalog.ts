/**
 * Global setup: compiles the bundled corpus (corpus/default/wsusscn2.cab) once per test run, instead of once in each
 * of a dozen files (about 2 s each on this machine). Tests read it through bundledCatalogFile() (test/helpers/bundled.ts)
 * and must not write it; a test about importing compiles its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { importCatalog } from '../../adapters/catalog/import.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The bundled corpus, compiled: a .pscat file to read, never to write. */
    bundledCatalog: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'patchscan-bundled-'));
  const out = join(dir, 'bundled.pscat');
  importCatalog(new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname, { out });
  project.provide('bundledCatalog', out);
  return () => rmSync(dir, { recursive: true, force: true });
}
