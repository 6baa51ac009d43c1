/**
 * The handle `serve` keeps on its scan-queue thread (scan-thread.ts): kicks it when work may be queued, learns when
 * the queue is empty, counts scans for /metrics, and on close lets the batch in flight finish before the thread ends.
 * A thread that dies (its store cannot be opened, a crash) is said in the log and started again at a kick at least
 * 5 s later; the jobs it had leased are given back at once, each with a try counted, instead of waiting for their
 * lease to run out (serve's process, which the leases would otherwise name, is still alive). Each thread leases under
 * a holder of its own (`host/pid/start/scan-thread-N`, store/queue.ts QueueHolder), so serve finds them in the store
 * whenever the thread died: also between a take's commit and anything the thread could say.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { thisProcess } from '../store/local-process.js';
import type { SiteStore } from '../store/port.js';
import type { FromScanThread, ScanThreadData, ToScanThread } from './scan-thread-protocol.js';

/** Under vitest the adapters run from their .ts sources: the thread needs tsx to load them. */
function threadFile(): { filename: string; eval: boolean } {
  const here = fileURLToPath(import.meta.url);
  // (`--import tsx` in a worker's execArgv does not reach its entry module here: tsx is registered from code.)
  if (here.endsWith('.ts')) {
    const ts = JSON.stringify(new URL('./scan-thread.ts', import.meta.url).href);
    return { filename: `import('tsx/esm/api').then((m) => { m.register(); return import(${ts}); })`, eval: true };
  }
  return { filename: fileURLToPath(new URL('./scan-thread.js', import.meta.url)), eval: false };
}

/** Scan threads this process started: each one's holder name is its number (unique in the process, whatever instance). */
let threadsStarted = 0;

/** How long after a scan thread died the next may start. */
const RESTART_BACKOFF_MS = 5_000;

export class ScanQueueThread {
  private worker: Worker | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Kicked and not yet said idle: further kicks add nothing (the thread looks at the queue until it is empty). */
  private busy = false;
  private readonly waiters = new Map<number, () => void>();
  private nextId = 1;
  private closed = false;
  /** After a thread died: no new one before this time (a thread that dies at start must not be restarted every poll). */
  private restartAt = 0;
  /**
   * The give-backs of threads that died, until they end: close() and kill() wait for them (serve closes its store
   * next), also when the thread is already gone or a newer one runs (`exited` is the newest thread's).
   */
  private givingBack: Promise<void> = Promise.resolve();

  /** `store` is serve's own: the jobs a thread held when it died are failed there (a try counted, then the backoff). */
  constructor(
    private readonly data: Omit<ScanThreadData, 'holder'>,
    private readonly store: Pick<SiteStore, 'releaseScans'>,
    private readonly onScanned: (n: number) => void,
    private readonly log: (line: string) => void,
  ) {}

  private thread(): Worker {
    if (this.worker) return this.worker;
    const { filename, eval: isEval } = threadFile();
    const holder = `${thisProcess()}/scan-thread-${++threadsStarted}`;
    const workerData: ScanThreadData = { ...this.data, holder };
    const w = new Worker(filename, { workerData, eval: isEval });
    this.worker = w;
    w.on('message', (m: FromScanThread) => {
      if (m.type === 'scanned') this.onScanned(m.n);
      else if (m.type === 'log') this.log(m.line);
      else if (m.type === 'idle') {
        this.busy = false;
        for (const id of m.ids) {
          this.waiters.get(id)?.();
          this.waiters.delete(id);
        }
      }
    });
    this.exited = new Promise<void>((resolve) => {
      w.once('error', (e) => this.log(`scan queue thread: ${e.message} (started again at a kick 5 s or more later)`));
      w.once('exit', () => {
        if (this.worker === w) this.worker = undefined;
        if (!this.closed) this.restartAt = Date.now() + RESTART_BACKOFF_MS;
        this.busy = false;
        // Nobody waits for a queue that no thread runs.
        for (const done of this.waiters.values()) done();
        this.waiters.clear();
        // Every lease the thread held, whenever it died (a job it stored and ended is no longer leased).
        const back = this.store.releaseScans(holder, 'the scan queue thread stopped before its batch was stored').then(
          (n) => {
            if (n > 0) this.log(`scan queue thread stopped with ${n} job(s) of a batch unfinished: they are queued again`);
          },
          (e: unknown) =>
            this.log(
              `scan queue: giving back a stopped thread's jobs failed (${(e as Error).message}); they wait for their lease to run out`,
            ),
        );
        this.givingBack = Promise.all([this.givingBack, back]).then(() => undefined);
        void back.finally(resolve);
      });
    });
    return w;
  }

  private post(m: ToScanThread): void {
    this.thread().postMessage(m);
  }

  /** Work may be queued (an upload, the poll timer). */
  kick(): void {
    if (this.closed || this.busy) return;
    if (!this.worker && Date.now() < this.restartAt) return; // the poll timer kicks again
    this.busy = true;
    this.post({ type: 'kick' });
  }

  /** Resolves once the thread has found the queue empty after this call. */
  idle(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const id = this.nextId++;
      this.waiters.set(id, resolve);
      this.busy = true;
      this.post({ type: 'kick', idle: id });
    });
  }

  /**
   * Stops the thread at once, as a crash would: the batch in flight is not stored and its jobs are given back.
   * Resolves when they are.
   */
  async kill(): Promise<void> {
    const w = this.worker;
    if (w) await w.terminate();
    await this.exited;
    await this.givingBack;
  }

  /** Lets the batch in flight finish and its store close; the thread then ends. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    if (w) {
      const m: ToScanThread = { type: 'close' };
      w.postMessage(m);
    }
    // With no thread running, one that died may still be giving its jobs back on serve's store.
    await this.exited;
    await this.givingBack;
  }
}
