/**
 * WAL checkpoints on a thread of their own, not inside the writer's COMMIT (the SQLite driver's default; `checkpoints:
 * 'inline'` has SQLite's own way).
 *
 * In WAL mode a commit appends pages to the -wal file, and by default the connection that commits past 1,000 pages of
 * WAL then copies them into the database file and syncs it (a checkpoint) before its COMMIT returns. On a site that is
 * most of what storing costs: a full rescan of 300 clients (~2,300 rows each) spent 5.6 s of its 24 s in COMMIT with
 * those checkpoints and 1.2 s without them; a catalog's carry-over of the same site 190 ms against 85
 * (bench/RESULTS.md, 2026-12-03 11:26–14:26). Here, after each commit, a thread with its own connection runs a
 * PASSIVE checkpoint (it waits for no reader and no writer) while the calling thread goes on, and the writer
 * checkpoints itself only past {@link WRITER_AUTOCHECKPOINT_PAGES} frames of WAL. SQLite writes the WAL from its start
 * again only when a transaction begins with every frame checkpointed: a site's queue works between its transactions,
 * and the thread catches up there, but transactions back to back (no work between) find it never caught up, the WAL
 * grows to that limit, and from there each COMMIT checkpoints as before (the file then stays that size: 64 MiB at
 * SQLite's default 4 KiB page).
 *
 * Durability does not change: a commit is durable when its WAL frames are (synchronous), whoever checkpoints them
 * later; a process killed mid-checkpoint leaves a WAL that the next checkpoint, or the last connection to close, copies.
 *
 * On a full disk: a COMMIT whose WAL cannot grow fails (the site answers 503); once the thread has copied the whole
 * WAL into the database file, the next transaction writes the WAL from its start, into space the file already has,
 * and commits. So a site may take an upload again after refusing one while the disk is still full, and what it takes
 * is stored (test/hostile/server-hardening.test.ts). Inline checkpoints rarely get there: the WAL fills up before
 * the 1,000 pages that trigger them. Once the database file cannot grow either, the thread's checkpoints fail; after
 * five in a row the writer checkpoints too (SQLite's 1,000 pages), and the first of the thread's that succeeds again
 * gives it the checkpoints back.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { CheckpointReply, CheckpointRequest, CheckpointThreadData } from './checkpoint-protocol.js';
import { checkpointThreadMain } from './checkpoint-thread.js';
import { evalWorkerSource } from './eval-worker.js';

/** 64 MiB of 4 KiB pages: past this the writer checkpoints in its COMMIT, as it does at 1,000 by default. */
export const WRITER_AUTOCHECKPOINT_PAGES = 16_384;
/** How long after its first commit a driver starts its thread. */
const START_AFTER_MS = 100;
/** SQLite's own default, put back when the thread is gone. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

const SOURCE = evalWorkerSource(checkpointThreadMain);

/**
 * Checkpoints failing one after another this many times (a full disk, the file gone): the writer checkpoints at
 * SQLite's default again, until one of the thread's succeeds.
 */
const FAILURES_TO_STEP_BACK = 5;

/** What the checkpoint thread last reported (for tests and diagnostics). */
export interface CheckpointStats {
  /**
   * Checkpoints asked for, and of those the ones that did not run: busy (another connection's checkpoint was running:
   * the next commit asks again) or failed (the database cannot be opened: see `lastError`).
   */
  readonly runs: number;
  readonly failures: number;
  /** The last one that ran: its WAL frames, and how many of them are in the database file. */
  readonly log: number;
  readonly checkpointed: number;
  readonly lastError?: string;
  /** Whether the thread was started (100 ms after the first commit), and whether it is gone (the writer checkpoints). */
  readonly started: boolean;
  readonly gone: boolean;
  /** The thread's checkpoints fail (FAILURES_TO_STEP_BACK in a row): the writer checkpoints too, until one succeeds. */
  readonly failing: boolean;
}

export class WalCheckpointer {
  private worker: Worker | undefined;
  private gone = false;
  private closing = false;
  private starting: NodeJS.Timeout | undefined;
  private firstCommitAt: number | undefined;
  private stats: Omit<CheckpointStats, 'started' | 'gone' | 'failing'> = { runs: 0, failures: 0, log: 0, checkpointed: 0 };
  private failedInARow = 0;
  /** Commits told to the thread (each one's seq), and the last one a checkpoint has answered. */
  private told = 0;
  private answered = 0;
  private waiters: { readonly upTo: number; readonly resolve: () => void }[] = [];

  constructor(
    private readonly data: CheckpointThreadData,
    private readonly writer: Database.Database,
  ) {
    writer.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
  }

  /**
   * After each commit: the thread checkpoints what the WAL holds, once for many commits. It starts
   * {@link START_AFTER_MS} after the first commit, not at it: a short command (enroll a client, create a group) commits
   * once or twice and closes, and starting a thread for it cost ~70 ms against its ~15 (closing the database
   * checkpoints its WAL anyway). A process that goes on has its thread 100 ms later.
   */
  committed(): void {
    if (this.gone || this.closing) return;
    this.told++;
    if (this.worker) this.tell(this.worker);
    // The timer fires only when the event loop turns; transactions chained through promises do not turn it, so a
    // commit that finds the delay over starts the thread itself.
    else if (this.firstCommitAt === undefined) {
      this.firstCommitAt = performance.now();
      this.starting = setTimeout(() => this.startNow(), START_AFTER_MS).unref();
    } else if (performance.now() - this.firstCommitAt >= START_AFTER_MS) this.startNow();
  }

  /** Resolves once a checkpoint was tried after every commit told so far (or the thread is gone, or closed). */
  settled(): Promise<void> {
    if (this.gone || this.closing || this.answered >= this.told) return Promise.resolve();
    this.startNow();
    this.worker?.ref();
    return new Promise((resolve) => this.waiters.push({ upTo: this.told, resolve }));
  }

  get last(): CheckpointStats {
    return { ...this.stats, started: this.worker !== undefined, gone: this.gone, failing: this.failedInARow >= FAILURES_TO_STEP_BACK };
  }

  /** Ends the thread after the checkpoint it has due, if any; the writer checkpoints itself again from here on. */
  async close(): Promise<void> {
    if (this.starting) clearTimeout(this.starting);
    this.starting = undefined;
    const w = this.worker;
    if (!w || this.gone) {
      this.closing = true;
      this.wakeAll();
      return;
    }
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    this.closing = true;
    w.ref(); // until it exits (a reply meanwhile must not unref it: wake())
    const m: CheckpointRequest = { kind: 'close' };
    w.postMessage(m);
    await exited;
  }

  private startNow(): void {
    if (this.starting) clearTimeout(this.starting);
    this.starting = undefined;
    if (this.worker || this.gone || this.closing) return;
    try {
      this.worker = this.start();
    } catch {
      // No thread to be had (a thread limit, memory): the writer checkpoints itself, as SQLite does by default.
      this.giveUp();
      return;
    }
    this.tell(this.worker);
  }

  /** Says every commit so far (one message: the thread checkpoints once for all of them). */
  private tell(w: Worker): void {
    const m: CheckpointRequest = { kind: 'commit', seq: this.told };
    w.postMessage(m);
  }

  private start(): Worker {
    const w = new Worker(SOURCE, { workerData: this.data, eval: true });
    // Never what keeps a process alive: a checkpoint not run is run by the next connection to the database.
    w.unref();
    // A reply answers the commits told before its checkpoint began; those told while it ran make the thread run
    // another, whose reply answers them.
    w.on('message', (r: CheckpointReply) => {
      this.answered = Math.max(this.answered, r.upTo);
      const s = this.stats;
      if (r.kind === 'done') {
        // (Not once the thread is gone: a reply that arrives after its exit leaves the writer's own checkpoints on.)
        if (this.failedInARow >= FAILURES_TO_STEP_BACK && !this.gone) this.writerCheckpointsAt(WRITER_AUTOCHECKPOINT_PAGES);
        this.failedInARow = 0;
        this.stats = { ...s, runs: s.runs + 1, log: r.log, checkpointed: r.checkpointed };
      } else {
        this.stats = { ...s, runs: s.runs + 1, failures: s.failures + 1, ...(r.kind === 'failed' ? { lastError: r.message } : {}) };
        // Busy is another connection's checkpoint at work. Failing again and again (a full disk: the file cannot
        // grow) may last: the writer checkpoints as well meanwhile, or the WAL would only grow; the thread keeps
        // trying at each commit, and once it succeeds (space came back) the writer leaves it the checkpoints again.
        if (r.kind === 'failed' && ++this.failedInARow === FAILURES_TO_STEP_BACK) this.writerCheckpointsAt(DEFAULT_AUTOCHECKPOINT_PAGES);
      }
      this.wake();
    });
    w.once('error', () => this.giveUp());
    w.once('exit', () => this.giveUp());
    return w;
  }

  /** Without the thread, the writer's own checkpoints again, or the WAL would only grow. */
  private giveUp(): void {
    if (this.gone) return;
    this.gone = true;
    this.writerCheckpointsAt(DEFAULT_AUTOCHECKPOINT_PAGES);
    this.wakeAll();
  }

  private writerCheckpointsAt(pages: number): void {
    try {
      if (this.writer.open) this.writer.pragma(`wal_autocheckpoint = ${pages}`);
    } catch {
      // closed meanwhile: nothing to set
    }
  }

  private wakeAll(): void {
    for (const x of this.waiters) x.resolve();
    this.waiters = [];
  }

  private wake(): void {
    const still = this.waiters.filter((x) => x.upTo > this.answered);
    for (const x of this.waiters) if (x.upTo <= this.answered) x.resolve();
    this.waiters = still;
    if (still.length === 0 && !this.closing) this.worker?.unref();
  }
}
