/**
 * What the strict UTF-8 check (issue 11, item 12) and the repeated-member-name check (duplicate-keys.ts) cost when an
 * inventory is decoded: fleet machines of the bundled catalog, as msgpack and as JSON, each decoded with
 * decodeInventory (which includes both checks) and each check alone. Best of several rounds, per machine.
 *
 *   node dist/bench/inventory-utf8.bench.js [--machines 2000] [--rounds 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { importCatalog } from '../adapters/catalog/import.js';
import { FleetModel } from '../corpus/generate-fleet.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile } from '../engine/catalog/file.js';
import { duplicateJsonMember, duplicateMsgpackKey } from '../engine/inventory/duplicate-keys.js';
import { invalidUtf8At, msgpackUtf8AndExt } from '../engine/inventory/utf8.js';
import { decodeInventory } from '../engine/inventory/validate.js';
import { numArg } from './args.js';

const machines = numArg('machines', '2000');
const rounds = numArg('rounds', '5');
const dir = mkdtempSync(join(tmpdir(), 'patchscan-utf8-bench-'));
try {
  importCatalog(new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname, { out: join(dir, 'c.pscat') });
  const model = new FleetModel(new Catalog(readCatalogFile(join(dir, 'c.pscat'))));
  const packr = new Packr({ useRecords: false });
  const docs = Array.from({ length: machines }, (_, i) => model.machine(7, i));
  const msgpack = docs.map((d) => packr.pack(d));
  const json = docs.map((d) => Buffer.from(JSON.stringify(d)));
  const avg = (bs: Uint8Array[]): string => `${(bs.reduce((n, b) => n + b.length, 0) / bs.length / 1024).toFixed(1)} KiB`;
  /** Best per-machine time of `rounds` runs, µs. */
  const best = (bs: Uint8Array[], f: (b: Uint8Array) => unknown): number => {
    let min = Infinity;
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      for (const b of bs) f(b);
      min = Math.min(min, ((performance.now() - t) * 1000) / bs.length);
    }
    return min;
  };
  const host = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}`;
  console.log(`machine: ${host}; ${machines} fleet machines, best of ${rounds}`);
  const texts = new Map<Uint8Array, string>(json.map((b) => [b, b.toString('utf8')])); // the JSON check reads the decoded text
  for (const [name, bs, check, repeats, fmt] of [
    ['msgpack', msgpack, msgpackUtf8AndExt, duplicateMsgpackKey, 'msgpack'],
    ['JSON', json, invalidUtf8At, (b: Uint8Array) => duplicateJsonMember(texts.get(b)!), 'json'],
  ] as const) {
    const decode = best(bs, (b) => decodeInventory(b, 'bench', fmt));
    const part = (what: string, us: number): string => `${what} ${us.toFixed(1)} µs (${((us / decode) * 100).toFixed(1)} %)`;
    console.log(
      `${name.padEnd(7)} ${avg(bs)}/machine: decodeInventory ${decode.toFixed(1)} µs, of which ` +
        `${part(fmt === 'msgpack' ? 'the UTF-8 and extension check' : 'the UTF-8 check', best(bs, check))}, ${part('the repeated-name check', best(bs, repeats))}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
