/**
 * One measured run in a fresh process (so peak RSS belongs to this run alone):
 *   node import-child.js import <cab> <out>   → import, with per-phase times
 *   node import-child.js load <catalog>       → load the compiled file and answer one lookup
 * Prints one JSON line.
 */
import { importCatalog, type ImportPhase } from '../adapters/catalog/import.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile } from '../engine/catalog/file.js';

const [mode, a, b] = process.argv.slice(2);
if (mode === 'import') {
  const phases: Partial<Record<ImportPhase, number>> = {};
  let current: ImportPhase | undefined;
  let since = performance.now();
  const r = importCatalog(a!, {
    out: b!,
    onProgress: (p) => {
      if (p.phase === current) return;
      const now = performance.now();
      if (current) phases[current] = (phases[current] ?? 0) + (now - since) / 1000;
      current = p.phase;
      since = now;
    },
  });
  if (current) phases[current] = (phases[current] ?? 0) + (performance.now() - since) / 1000;
  process.stdout.write(
    `${JSON.stringify({
      seconds: r.seconds,
      revisions: r.catalog.updates.count,
      xmlBytes: r.xmlBytes,
      outBytes: r.outBytes,
      facts: r.catalog.facts.count,
      nodes: r.catalog.nodes.count,
      strings: r.catalog.strings.offsets.length - 1,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      phases,
    })}\n`,
  );
} else if (mode === 'load') {
  const t = performance.now();
  const c = new Catalog(readCatalogFile(a!));
  const loadSeconds = (performance.now() - t) / 1000;
  const kb = c.kb(c.data.indexes.byKb[0]!);
  const t2 = performance.now();
  const hits = c.findByKb(kb);
  const lookupMicros = (performance.now() - t2) * 1000;
  process.stdout.write(
    `${JSON.stringify({ loadSeconds, lookupMicros, hits: hits.length, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
  );
} else {
  process.stderr.write('usage: import-child.js import <cab> <out> | load <catalog>\n');
  process.exitCode = 2;
}
