/**
 * Progress that tells the truth (issue 13, item 8), as a user sees it:
 * - `patchscan sync` from a real HTTP server that sends the catalog slowly: off a terminal, a line every few seconds
 *   (here every 0.4 s) with percentages that only go up and stay within 100 %, rates near the server's real pace, and
 *   the import's phases each ending at 100 % or "done"; on a pseudo-terminal (`script`), one redrawn line per phase
 *   that fits the terminal, shows bytes, rate and time left, and never cuts a name;
 * - `catalog import` on a pseudo-terminal: the unpacked total is the entries' size (never "13.9 MiB/12.1 MiB");
 * - the importer's own events: the fragments phase moves in small steps of bytes, never a jump per range cabinet;
 * - the bar itself with a fake clock: clamping, rates, elision, the interval between lines.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elide, human, humanRate, ProgressBar } from '../../adapters/cli/progress.js';
import { importCatalog, type ImportProgress } from '../../adapters/catalog/import.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { BIN } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '',
      err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

/** The same command on a pseudo-terminal of `cols` columns (util-linux `script`); returns what the terminal got. */
function onTerminal(args: readonly string[], cols: number): Promise<{ code: number; out: string; err: string }> {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  return run('script', ['-q', '-e', '-c', `stty cols ${cols} rows 40; ${quoted}`, '/dev/null']);
}

/** Terminal output as the successive states of its line: split at \r and \n, erase-to-end codes removed. */
const screenLines = (raw: string): string[] =>
  raw
    .replace(/\x1b\[K/g, '')
    .split(/\r\n|\r|\n/)
    .filter((l) => l.trim() !== '');

interface Parsed {
  label: string;
  percent: number;
  detail: string;
  line: string;
}
const PROGRESS = /^(\S+)\s+[█░]*\s*(\d+)% (\S+ ?\S*)\/(\S+ ?\S*?)(?: |$)(.*)$/;
const parse = (l: string): Parsed | undefined => {
  const m = PROGRESS.exec(l);
  return m ? { label: m[1], percent: Number(m[2]), detail: m[5], line: l } : undefined;
};

/** Per label, the percentages never go down and stay within 0..100. */
function expectMonotonic(lines: readonly Parsed[]): void {
  const last = new Map<string, number>();
  for (const p of lines) {
    expect(p.percent, p.line).toBeGreaterThanOrEqual(0);
    expect(p.percent, p.line).toBeLessThanOrEqual(100);
    expect(p.percent, p.line).toBeGreaterThanOrEqual(last.get(p.label) ?? 0);
    last.set(p.label, p.percent);
  }
}

/** Bytes per second from "1.2 MiB/s" or "830 KiB/s". */
function bytesPerSecond(line: string): number | undefined {
  const m = /(\d+(?:\.\d+)?) (B|KiB|MiB|GiB)\/s/.exec(line);
  return m ? Number(m[1]) * { B: 1, KiB: 1024, MiB: 1048576, GiB: 1073741824 }[m[2] as 'B'] : undefined;
}

describe('progress on the command line', () => {
  const dir = tempDir();
  const cab = readFileSync(BUNDLED);
  const PACE = 320 * 1024; // bytes a second the server sends
  let server: Server;
  let url = '';

  beforeAll(async () => {
    // Sends the catalog in 16 KiB pieces at about PACE bytes a second, with its size (so there is a time left).
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.ms-cab-compressed', 'content-length': String(cab.length), etag: '"v1"' });
      let at = 0;
      const step = (): void => {
        if (at >= cab.length) return void res.end();
        const piece = cab.subarray(at, at + 16 * 1024);
        at += piece.length;
        res.write(piece);
        setTimeout(step, (piece.length / PACE) * 1000);
      };
      step();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/wsusscn2.cab`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const newSite = async (name: string): Promise<string> => {
    const data = join(dir, name);
    const r = await run(process.execPath, [BIN, 'init', '--data', data, '--sync-source', url]);
    expect(r.code, r.err).toBe(0);
    return data;
  };

  it('sync off a terminal: a line every few seconds, percentages only up, sane rates, every phase ends', async () => {
    const data = await newSite('lines');
    const r = await run(process.execPath, [BIN, 'sync', '--data', data], { PATCHSCAN_PROGRESS_SECONDS: '0.4' });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^Sync updated: /);
    expect(r.err).not.toMatch(/\r|\x1b/); // plain lines: no redraws, no terminal codes
    const lines = r.err
      .split('\n')
      .map(parse)
      .filter((p): p is Parsed => p !== undefined);
    const download = lines.filter((p) => p.label === 'download');
    // ~2.4 s of download at one line per 0.4 s, plus the line that ends it; a busy machine may draw fewer.
    expect(download.length, r.err).toBeGreaterThanOrEqual(3);
    expect(
      download.filter((p) => p.percent === 100),
      r.err,
    ).toHaveLength(1); // the end is told once
    expect(download.at(-1)!.percent).toBe(100);
    const size = human(cab.length, 'bytes'); // the bundled catalog's size, as the line shows it
    expect(download.at(-1)!.line).toMatch(
      new RegExp(`^download +[█░]+ 100% ${size}/${size} in \\d+\\.\\ds, \\d+ KiB/s {2}wsusscn2\\.cab$`),
    );
    expectMonotonic(lines);
    // Time left while it runs, and the name whole; a line drawn while nothing arrived for a while (a loaded machine
    // stalls the paced server) says so instead of a rate.
    const running = download.slice(0, -1);
    for (const p of running) expect(p.line).toMatch(/ (left|stalled) {2}wsusscn2\.cab$/);
    expect(running.filter((p) => p.line.endsWith(' left  wsusscn2.cab')).length, r.err).toBeGreaterThan(0);
    for (const p of running.filter((q) => !q.line.includes(' stalled '))) {
      const rate = bytesPerSecond(p.line)!;
      expect(rate, p.line).toBeGreaterThan(PACE / 8);
      expect(rate, p.line).toBeLessThan(PACE * 8);
    }
    // The import's phases, each ending complete (a percentage phase at 100 %, a step as done).
    for (const label of ['checking', 'hashing', 'unpacking', 'package', 'fragments']) {
      const mine = lines.filter((p) => p.label === label);
      expect(mine.length, `${label}\n${r.err}`).toBeGreaterThan(0);
      expect(mine.at(-1)!.percent, mine.at(-1)!.line).toBe(100);
    }
    for (const label of ['compiling', 'writing']) expect(r.err).toMatch(new RegExp(`^${label} +done in \\d+\\.\\ds$`, 'm'));
    expect(r.err).not.toMatch(/\d+\.\d{3}\//); // no rate like "19,666.503/s"
  }, 120_000);

  it('sync on a terminal: one redrawn line per phase that fits, with bytes, rate and time left, no name cut', async () => {
    const data = await newSite('tty');
    const r = await onTerminal(['sync', '--data', data], 100);
    expect(r.code, r.out).toBe(0);
    const screen = screenLines(r.out);
    const lines = screen.map(parse).filter((p): p is Parsed => p !== undefined);
    for (const p of lines) expect(p.line.length, p.line).toBeLessThanOrEqual(99); // the progress lines fit (log lines wrap)
    expectMonotonic(lines);
    const download = lines.filter((p) => p.label === 'download');
    expect(download.length).toBeGreaterThanOrEqual(3); // redrawn as bytes arrive (10 a second at most)
    const running = new RegExp(`\\d+ KiB/${human(cab.length, 'bytes')} \\d+ KiB/s, \\d+\\.\\ds left {2}wsusscn2\\.cab$`);
    expect(
      download.some((p) => running.test(p.line)),
      download.map((p) => p.line).join('\n'),
    ).toBe(true);
    for (const p of lines) if (p.detail.includes('.ca')) expect(p.detail, p.line).toMatch(/\.cab$/); // never "package2.ca"
    expect(r.out).toMatch(/Sync updated: new catalog/);
  }, 120_000);

  it("catalog import on a terminal: unpacking counts the entries' bytes, never more than its total", async () => {
    const r = await onTerminal(['catalog', 'import', BUNDLED, '--out', join(dir, 'import.pscat')], 120);
    expect(r.code, r.out).toBe(0);
    const lines = screenLines(r.out)
      .map(parse)
      .filter((p): p is Parsed => p !== undefined);
    expectMonotonic(lines);
    const unpack = lines.filter((p) => p.label === 'unpacking');
    expect(unpack.at(-1)!.line).toMatch(/100% (\S+ \S+)\/\1 /); // done equals total at the end
    expect(
      screenLines(r.out)
        .filter((l) => /^compiling/.test(l))
        .at(-1),
    ).toMatch(/^compiling +done in \d+\.\ds$/);
  }, 60_000);

  it('the importer reports fragments in small steps of bytes across range cabinets, not one jump per cabinet', () => {
    const out = join(dir, 'ranges.cab');
    const g = generateCatalog({ revisions: 4000, seed: 11, out, revisionsPerRangeCab: 1000 });
    expect(g.rangeCabs).toBeGreaterThanOrEqual(3);
    const events: ImportProgress[] = [];
    importCatalog(out, { out: join(dir, 'ranges.pscat'), onProgress: (p) => events.push(p) });
    const fragments = events.filter((e) => e.phase === 'fragments');
    expect(fragments.every((e) => e.unit === 'bytes')).toBe(true);
    const total = fragments[0].total;
    expect(fragments.every((e) => e.total === total)).toBe(true); // one total for the whole phase
    expect(fragments.at(-1)!.done).toBe(total);
    for (let k = 1; k < fragments.length; k++) {
      expect(fragments[k].done).toBeGreaterThanOrEqual(fragments[k - 1].done);
      expect(fragments[k].done - fragments[k - 1].done).toBeLessThanOrEqual(Math.max(total * 0.05, 512 * 1024)); // no jumps
    }
    const unpack = events.filter((e) => e.phase === 'unpack');
    expect(unpack.every((e) => e.done <= e.total)).toBe(true);
    expect(events.filter((e) => e.phase === 'compile').map((e) => e.done)).toEqual([0, 1]); // it starts and it ends
  }, 60_000);
});

describe('the progress line itself (a fake clock)', () => {
  const sink = (columns = 80): { stream: NodeJS.WriteStream; text: () => string } => {
    let text = '';
    return {
      stream: { columns, isTTY: true, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream,
      text: () => text,
    };
  };

  it('a terminal that reports 0 columns (script without a size) still gets a line, cut as for 100', () => {
    let t = 0;
    const s = sink(0);
    const bar = new ProgressBar(s.stream, 'tty', { now: () => t });
    t = 1000;
    bar.update({ label: 'unpacking', done: 5, total: 20, unit: 'bytes' });
    const state = screenLines(s.text()).map(parse).at(-1);
    expect(state?.percent).toBe(25);
    expect(state!.line.length).toBeGreaterThan(10);
    expect(state!.line.length).toBeLessThanOrEqual(100);
  });

  it('a total that turns out too small grows; a smaller done later does not move it back', () => {
    let t = 0;
    const s = sink(120);
    const bar = new ProgressBar(s.stream, 'tty', { now: () => t });
    bar.update({ label: 'unpacking', done: 10, total: 8, unit: 'bytes' });
    t = 1000;
    bar.update({ label: 'unpacking', done: 5, total: 20, unit: 'bytes' });
    const states = screenLines(s.text()).map(parse);
    expect(states.map((p) => p?.percent)).toEqual([100, 50]); // 10 of (at least) 10, then 10 of 20: never 5 of 20
    expect(states[1]!.line).toContain(' 10 B/20 B ');
  });

  it('a download that stops moving says it is stalled, with no time left made up, and its rate comes back with the bytes', () => {
    let t = 0;
    const s = sink(100);
    const bar = new ProgressBar(s.stream, 'tty', { now: () => t });
    const at = (ms: number, kib: number): void => {
      t = ms;
      bar.update({ label: 'download', done: kib * 1024, total: 4096 * 1024, unit: 'bytes', detail: 'wsusscn2.cab' });
    };
    for (let k = 0; k <= 10; k++) at(k * 200, k * 100); // 500 KiB/s for 2 s
    for (let k = 1; k <= 40; k++) at(2000 + k * 200, 1000); // nothing for 8 s (updates still come: headers, retries)
    const stalled = screenLines(s.text()).at(-1)!;
    expect(stalled).toMatch(/ 1000 KiB\/4\.0 MiB stalled {2}wsusscn2\.cab$/);
    for (let k = 1; k <= 10; k++) at(10_000 + k * 200, 1000 + k * 100); // moving again
    expect(screenLines(s.text()).at(-1)).toMatch(/ \d+ KiB\/s, [\dhms.]+ left {2}wsusscn2\.cab$/);
  });

  it('a size the server does not tell: bytes and rate, no percentage that would be made up', () => {
    let t = 0;
    const s = sink(100);
    const bar = new ProgressBar(s.stream, 'tty', { now: () => t });
    for (let k = 0; k <= 20; k++) {
      t = k * 200;
      bar.update({ label: 'download', done: k * 100 * 1024, total: 0, unit: 'bytes', detail: 'wsusscn2.cab' });
    }
    bar.done();
    const states = screenLines(s.text());
    expect(states.every((l) => !l.includes('%'))).toBe(true);
    expect(states.at(-2)).toBe('download   2.0 MiB 500 KiB/s  wsusscn2.cab');
    expect(states.at(-1)).toBe('download   2.0 MiB in 4.0s, 500 KiB/s  wsusscn2.cab');
  });

  it('counts and rates read as numbers people use', () => {
    expect(humanRate(19666.503, 'items')).toBe('19,667/s');
    expect(humanRate(0.094, 'files')).toBe('0.1 files/s');
    expect(humanRate(1.5 * 1048576, 'bytes')).toBe('1.5 MiB/s');
    expect(human(13.9 * 1048576, 'bytes')).toBe('13.9 MiB');
  });

  it('a long detail is shortened in its middle with "…" to fit; the line never passes the width', () => {
    expect(elide('patchscan-data/sync/package2.cab', 16)).toBe('patchs…kage2.cab');
    expect(elide('short', 16)).toBe('short');
    for (const cols of [40, 60, 80, 200]) {
      const s = sink(cols);
      const bar = new ProgressBar(s.stream, 'tty', { now: () => 0 });
      bar.update({ label: 'fragments', done: 5, total: 10, unit: 'bytes', detail: `${'very-long-directory-name/'.repeat(4)}package2.cab` });
      for (const l of screenLines(s.text())) {
        expect(l.length).toBeLessThanOrEqual(cols - 1);
        if (l.includes('package')) expect(l).toMatch(/…[^…]*package2\.cab$|package2\.cab$/);
      }
    }
  });

  it('off a terminal: a line when the interval has passed, and one when the phase ends', () => {
    let t = 0;
    let text = '';
    const stream = { isTTY: false, write: (x: string) => ((text += x), true) } as unknown as NodeJS.WriteStream;
    const bar = new ProgressBar(stream, 'lines', { now: () => t, intervalMs: 1000 });
    for (let k = 0; k <= 50; k++) {
      t = k * 100;
      bar.update({ label: 'download', done: k * 1000, total: 50_000, unit: 'bytes' });
    }
    bar.done();
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(5); // at 1, 2, 3 and 4 s, and once when the phase ends (at 5 s, 100 %)
    expect(lines.map((l) => parse(l)!.percent)).toEqual([20, 40, 60, 80, 100]);
    expect(lines[4]).toMatch(/ 100% 49 KiB\/49 KiB in 5\.0s, 10 KiB\/s$/);
    expect(lines[0]).toMatch(/ 20% 10 KiB\/49 KiB 10 KiB\/s, 4\.0s left$/);
  });
});
