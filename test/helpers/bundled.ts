/** The bundled corpus, compiled once per run by test/setup/bundled-catalog.ts: read it, never write it. */
import { inject } from 'vitest';

export function bundledCatalogFile(): string {
  return inject('bundledCatalog');
}
