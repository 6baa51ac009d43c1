/**
 * CAB extraction benchmark: a large MSZIP cabinet (default 512 MiB of package.xml-like data) extracted by patchscan's
 * reader and by Debian's cabextract, side by side in the same run. Shows throughput and that peak memory stays flat
 * (bounded by one data block and the decoder window), whatever the cabinet's size.
 *
 *   node dist/bench/cab.bench.js [--mib 512] [--runs 3]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CabWriter } from '../adapters/cab/writer.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const mib = arg('mib', 512);
const runs = arg('runs', 3);
const work = join(process.cwd(), 'bench', '.work');
mkdirSync(work, { recursive: true });
const cab = join(work, `big-${mib}.cab`);
const MiB = 1048576;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (!existsSync(cab)) {
  // XML-like text with varying numbers: compresses about 8:1, like the real catalog.
  const w = new CabWriter(cab, { level: 1 });
  function* chunks(): Generator<Buffer> {
    let x = 1;
    for (let done = 0; done < mib * MiB;) {
      const parts: string[] = [];
      for (let k = 0; k < 2000; k++) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        parts.push(
          `<Update UpdateId="${x.toString(16)}-4c77-4dd9-951a-${(x ^ 0x5a5a).toString(16)}` +
            `" RevisionNumber="${x % 300}" RevisionId="${x % 900000}" IsLeaf="true" />\n`,
        );
      }
      const b = Buffer.from(parts.join('')).subarray(0, Math.min(mib * MiB - done, 1 << 30));
      done += b.length;
      yield b;
    }
  }
  w.addStream('package.xml', chunks(), mib * MiB);
  w.finish();
}
console.log(`input: ${cab}, ${(statSync(cab).size / MiB).toFixed(0)} MiB cabinet holding ${mib} MiB`);
const child = new URL('./cab-child.js', import.meta.url).pathname;
const ours: { seconds: number; maxRssBytes: number }[] = [];
const theirs: number[] = [];
for (let r = 0; r < runs; r++) {
  const out = join(work, 'extract-ours');
  rmSync(out, { recursive: true, force: true });
  ours.push(JSON.parse(execFileSync(process.execPath, [child, cab, out], { encoding: 'utf8' })));
  rmSync(out, { recursive: true, force: true });
  const out2 = join(work, 'extract-cabextract');
  rmSync(out2, { recursive: true, force: true });
  const t = performance.now();
  execFileSync('cabextract', ['-q', '-d', out2, cab]);
  theirs.push((performance.now() - t) / 1000);
  rmSync(out2, { recursive: true, force: true });
}
const s = median(ours.map((o) => o.seconds));
const c = median(theirs);
console.log(
  `patchscan   ${s.toFixed(2)} s  ${(mib / s).toFixed(0)} MiB/s  peak RSS ${(median(ours.map((o) => o.maxRssBytes)) / MiB).toFixed(0)} MiB`,
);
console.log(`cabextract  ${c.toFixed(2)} s  ${(mib / c).toFixed(0)} MiB/s`);
console.log(`ratio patchscan ÷ cabextract time: ${(s / c).toFixed(2)} (median of ${runs} runs each)`);
