/**
 * `serve`'s scan queue, on a worker thread of its own with its own site store (scan-queue-thread.ts starts it): the
 * engine runs on the scan pool's threads as before, and now the rest of a batch — reading inventories, decoding and
 * fingerprinting them, building result sets and storing them in one transaction — runs here too, so a batch of
 * hundreds of result rows never holds the HTTP event loop. It is what `patchscan worker` does in a process of its
 * own, in a thread of serve.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ScanService, type QueueRun } from '../site/scan-service.js';
import { Site } from '../site/site.js';
import type { FromScanThread, ScanThreadData, ToScanThread } from './scan-thread-protocol.js';

const port = parentPort!;
const d = workerData as ScanThreadData;
const post = (m: FromScanThread): void => port.postMessage(m);

// Its leases name this thread (d.holder), not serve's process: serve gives them back if the thread dies.
const site = await Site.open(d.dir, { config: d.config, queueHolder: d.holder });
const scanner = new ScanService(site, {
  threads: d.threads,
  log: (line) => post({ type: 'log', line }),
});

let running: Promise<void> | undefined;
/** A kick came after the last look at the queue: look again before saying idle. */
let again = false;
let closed = false;
let waiters: number[] = [];

async function loop(): Promise<void> {
  while (again && !closed) {
    again = false;
    while (!closed) {
      let r: QueueRun;
      try {
        // A step at a time: the thread answers messages between steps.
        r = await scanner.runQueueStep(d.leaseSeconds);
      } catch (e) {
        post({ type: 'log', line: `scan queue: ${(e as Error).message}` });
        break;
      }
      if (r.scanned > 0) post({ type: 'scanned', n: r.scanned });
      if (r.scanned + r.skipped === 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const ids = waiters;
  waiters = [];
  running = undefined;
  post({ type: 'idle', ids });
}

port.on('message', (m: ToScanThread) => {
  if (m.type === 'kick') {
    if (m.idle !== undefined) waiters.push(m.idle);
    again = true;
    running ??= loop();
    return;
  }
  closed = true;
  // The batch in flight finishes (its results and its jobs' ends commit together), then the pool and the store close.
  void (async () => {
    await running;
    await scanner.close();
    await site.close();
    post({ type: 'closed' });
    port.close();
  })();
});
