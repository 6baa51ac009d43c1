/**
 * The engine's folders import one another in one direction only (docs/api.md, "Where things are"): no folder reads a
 * folder above it, so there is no import cycle between folders, and the engine imports no adapter. Type-only imports
 * count: a cycle of types is still two folders that cannot be understood apart.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ENGINE = new URL('../../engine/', import.meta.url).pathname;

/** Lowest first: a folder may import only the folders before it (and `base`: model.ts, errors.ts). */
const LAYERS = ['base', 'io', 'inventory', 'rules', 'catalog', 'eval', 'scanner', 'fleet', 'pool', 'index'];

function layerOf(file: string): string {
  const rel = relative(ENGINE, file).split('\\').join('/');
  if (rel === 'index.ts') return 'index';
  if (!rel.includes('/')) return 'base';
  return rel.split('/')[0];
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const imports = sources(ENGINE).flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:import|export)[^'";]*?from\s+'(\.[^']+)'/g)].map((m) => ({
    file: relative(ENGINE, file),
    from: layerOf(file),
    target: posix.normalize(posix.join(dirname(file).split('\\').join('/'), m[1])),
  })),
);

describe('engine layering', () => {
  it('knows every folder of the engine', () => {
    const folders = new Set(sources(ENGINE).map(layerOf));
    expect([...folders].filter((f) => !LAYERS.includes(f))).toEqual([]);
    expect(imports.length).toBeGreaterThan(100);
  });

  it('imports no adapter', () => {
    expect(imports.filter((i) => !i.target.startsWith(ENGINE.replace(/\/$/, '')))).toEqual([]);
  });

  it('has no folder importing a folder above it (so no cycle between folders)', () => {
    const upward = imports
      .filter((i) => LAYERS.indexOf(layerOf(i.target)) > LAYERS.indexOf(i.from))
      .map((i) => `${i.file} imports ${relative(ENGINE, i.target)}`);
    expect(upward).toEqual([]);
  });
});
