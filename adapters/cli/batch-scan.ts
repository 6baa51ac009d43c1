/**
 * `patchscan scan --inventories SRC --out FILE`: any number of inventories, streamed through the worker pool,
 * written as they come back (awaiting the file's drain, so a slow disk slows the input instead of filling memory).
 * A bad inventory becomes an error row for that machine; SIGINT stops reading, finishes what is in flight, writes it
 * and reports.
 */
import { closeSync, createWriteStream, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { ioError } from '../../engine/errors.js';
import { dirname } from 'node:path';
import { syncDirectory } from '../../engine/io/atomic-file.js';
import type { Catalog } from '../../engine/catalog/catalog.js';
import { createScanner } from '../../engine/pool/scanner-pool.js';
import type { MachineResult } from '../../engine/pool/protocol.js';
import type { ResultSet } from '../../engine/scan/result-set.js';
import { COUNT_BUCKETS, emptyCounts, type OutcomeCounts } from '../../engine/scan/counting.js';
import { scanRow } from '../../engine/scan/scan.js';
import { inventorySource, type RawInventory } from '../inventory/sources.js';
import { FleetMsgpackWriter } from '../report/fleet-msgpack.js';
import { CSV_HEADER, csvLine } from '../report/rows.js';
import { ProgressBar } from './progress.js';

export type BatchFormat = 'jsonl' | 'msgpack' | 'csv';

export interface BatchOptions {
  readonly catalog: Catalog;
  readonly inventories: string;
  readonly out: string;
  readonly format: BatchFormat;
  readonly threads?: number;
  readonly reasons: boolean;
  readonly all: boolean;
  readonly quiet?: boolean;
  /** Share results between machines with the same rule inputs (default true). */
  readonly cache?: boolean;
}

export interface BatchSummary {
  readonly machines: number;
  readonly scanned: number;
  readonly errors: number;
  /** Outcomes of every machine counted by the counting rule (engine/scan/counting.ts): what every report counts. */
  readonly counts: OutcomeCounts;
  /** Updates counted as Required (not superseded, not possibly superseded) on the most machines. */
  readonly topRequired: { kb: string; title: string; machines: number }[];
  readonly seconds: number;
  readonly interrupted: boolean;
  readonly firstErrors: { source: string; code: string; message: string }[];
  readonly cache: { hits: number; misses: number };
  /** Rule values of first-of-a-profile scans taken from earlier machines with the same inventory sections. */
  readonly ruleValues: { shared: number; evaluated: number };
}

/** Makes a finished file durable and gives it its real name in one rename. */
function publish(from: string, to: string): void {
  const fd = openSync(from, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(from, to);
  syncDirectory(dirname(to));
}

/** Writes, waiting for the stream to drain (backpressure); a write error (disk full…) rejects. */
function write(out: WriteStream, chunk: string | Uint8Array): Promise<void> | undefined {
  if (out.errored) return Promise.reject(out.errored);
  return out.write(chunk) ? undefined : new Promise((resolve, reject) => {
    const done = (e?: Error): void => {
      out.off('drain', done);
      out.off('error', done);
      if (e) reject(e);
      else resolve();
    };
    out.once('drain', done);
    out.once('error', done);
  });
}

export async function runBatchScan(o: BatchOptions): Promise<BatchSummary> {
  const c = o.catalog;
  const started = performance.now();
  const source = inventorySource(o.inventories);
  let stop = false;
  const onSigint = (): void => {
    stop = true;
  };
  process.once('SIGINT', onSigint);
  async function* guarded(): AsyncGenerator<RawInventory> {
    for await (const item of source) {
      if (stop) return;
      yield item;
    }
  }
  const scanner = await createScanner({ catalog: c, ...(o.threads !== undefined ? { threads: o.threads } : {}), reasons: o.reasons, all: o.all, cache: o.cache ?? true });
  // Results go to OUT.partial and become OUT only when the batch ends (completed or interrupted and drained): a
  // killed run never leaves a half-written file under the name a user reads. Devices and pipes are written directly.
  const direct = existsSync(o.out) && !statSync(o.out).isFile();
  const writing = direct ? o.out : `${o.out}.partial`;
  const out = createWriteStream(writing);
  // Errors surface through write() and end(); this listener only keeps an early one from being "unhandled".
  out.on('error', () => undefined);
  let finished = false;
  const fleet = o.format === 'msgpack' ? new FleetMsgpackWriter(c) : undefined;
  const bar = new ProgressBar(process.stderr, !o.quiet && process.stderr.isTTY === true);
  const counts = emptyCounts();
  const required = new Map<number, number>();
  // Machines per shared result set: their states and Required updates are added up once, at the end.
  const perSet = new Map<number, { set: ResultSet; machines: number }>();
  const written = new Set<number>();
  let machines = 0, errors = 0;
  let cacheStats = { hits: 0, misses: 0 };
  let ruleValues = { shared: 0, evaluated: 0 };
  const firstErrors: BatchSummary['firstErrors'] = [];
  // Output is gathered and written in chunks of ~256 KiB (one write per record would cost more than the record).
  let pending: (string | Uint8Array)[] = [];
  let pendingBytes = 0;
  const put = (chunk: string | Uint8Array): void => {
    pending.push(chunk);
    pendingBytes += chunk.length;
  };
  const flush = async (): Promise<void> => {
    if (fleet) {
      if (fleet.size > 0) await write(out, fleet.take());
      return;
    }
    if (pending.length === 0) return;
    const chunk = typeof pending[0] === 'string' ? (pending as string[]).join('') : Buffer.concat(pending as Uint8Array[]);
    pending = [];
    pendingBytes = 0;
    await write(out, chunk);
  };
  if (o.format === 'csv') put(`${CSV_HEADER}\r\n`);
  try {
    for await (const r of scanner.scanMany(guarded())) {
      machines++;
      emit(r);
      if (pendingBytes + (fleet?.size ?? 0) >= 1 << 18) await flush();
      if ((machines & 255) === 0) bar.update({ label: 'scanning', done: machines, total: machines, unit: 'items', detail: `${errors} error(s)` });
    }
    finished = true;
  } finally {
    process.removeListener('SIGINT', onSigint);
    bar.done();
    await flush().catch(() => undefined); // a write error is reported by end() below
    cacheStats = scanner.cacheStats();
    ruleValues = scanner.ruleValueStats();
    await scanner.close();
    try {
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : out.errored ? reject(out.errored) : resolve())));
      if (finished && !direct) publish(writing, o.out);
    } catch (e) {
      if (!direct) rmSync(writing, { force: true }); // an incomplete result is not kept
      throw ioError('write the results to', o.out, out.errored ?? e);
    }
  }

  function emit(r: MachineResult): void {
    if (!r.ok) {
      errors++;
      if (firstErrors.length < 10) firstErrors.push({ source: r.source, ...r.error });
      const row = { computer: r.computer ?? null, source: r.source, error: r.error };
      if (o.format === 'jsonl') put(`${JSON.stringify(row)}\n`);
      else if (fleet) fleet.value(row);
      else put(`${csvLine({ computer: r.computer ?? r.source, state: 'Error', reason: `${r.error.code}: ${r.error.message}` })}\r\n`);
      return;
    }
    const set = r.resultSet;
    if (set.shared) {
      const e = perSet.get(set.id);
      if (e) e.machines++;
      else perSet.set(set.id, { set, machines: 1 });
    } else tally(set, 1);
    if (fleet) {
      // The fleet format: each result set once, before the first machine that names it; then one small record
      // per machine. Machines with the same profile share a set, so the file grows with profiles, not machines.
      if (!written.has(set.id)) {
        fleet.resultSet(set);
        if (set.shared) written.add(set.id);
      }
      fleet.machine(r.computer, r.source, set.id);
      return;
    }
    let text = '';
    for (const u of r.updates) {
      const row = scanRow(c, r.computer, u);
      text += o.format === 'jsonl' ? `${JSON.stringify(row)}\n` : `${csvLine(row)}\r\n`;
    }
    if (text) put(text);
  }

  function tally(set: ResultSet, n: number): void {
    const st = set.stats;
    for (const b of COUNT_BUCKETS) counts[b] += st.counts[b] * n;
    for (const i of st.required) required.set(i, (required.get(i) ?? 0) + n);
  }
  for (const { set, machines: n } of perSet.values()) tally(set, n);

  const topRequired = [...required.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([i, n]) => ({ kb: c.kb(i), title: c.title(i), machines: n }));
  return { machines, scanned: machines - errors, errors, counts, topRequired, seconds: (performance.now() - started) / 1000, interrupted: stop, firstErrors, cache: cacheStats, ruleValues };
}

const num = (n: number): string => n.toLocaleString('en-US');

/** Counts as the reports word them: Required first, superseded ones apart (docs/semantics.md, "Counting"). */
export function formatCounts(c: OutcomeCounts): string {
  return `Required ${num(c.required)}, Installed ${num(c.installed)}, Unknown ${num(c.unknown)}${c.notApplicable ? `, NotApplicable ${num(c.notApplicable)}` : ''}; `
    + `Required but superseded ${num(c.superseded)}, possibly superseded ${num(c.possiblySuperseded)}`;
}

export function formatBatchSummary(s: BatchSummary, out: string): string {
  const lines = [
    `${s.interrupted ? 'Interrupted: ' : ''}Scanned ${s.scanned.toLocaleString('en-US')} machine(s) in ${s.seconds.toFixed(2)} s (${(s.machines / Math.max(s.seconds, 1e-9)).toFixed(0)} machines/s); ${s.errors} error(s); results in ${out}`,
    `Result cache: ${s.cache.hits + s.cache.misses > 0 ? `${((100 * s.cache.hits) / (s.cache.hits + s.cache.misses)).toFixed(1)} % of machines shared an earlier machine's results` : 'off'}`,
    ...(s.ruleValues.shared + s.ruleValues.evaluated > 0
      ? [`Rule values: ${((100 * s.ruleValues.shared) / (s.ruleValues.shared + s.ruleValues.evaluated)).toFixed(1)} % of those the first machine of a profile needed came from machines with the same inventory sections`]
      : []),
    `Updates: ${formatCounts(s.counts)}`,
  ];
  if (s.topRequired.length) {
    lines.push('Most needed (Required, not superseded):');
    for (const t of s.topRequired) lines.push(`  ${t.kb ? `KB${t.kb}` : '-'}  ${t.machines.toLocaleString('en-US')} machine(s)  ${t.title}`);
  }
  if (s.firstErrors.length) {
    lines.push('Errors (first 10):');
    for (const e of s.firstErrors) lines.push(`  ${e.code}: ${e.message}`);
  }
  return lines.join('\n');
}
