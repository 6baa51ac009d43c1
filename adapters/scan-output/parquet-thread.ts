/**
 * The thread that encodes `-f parquet` (parquet-encoder.ts), started by parquet-rows.ts. Messages come in order:
 * a row group (answered with its bytes, the buffer transferred) or `finish` (answered with the footer). An encoding
 * error is answered as such; the file is then unusable and the batch fails.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ParquetFileEncoder, type ParquetFileMeta, type RowGroupBatch } from './parquet-encoder.js';

export type ToEncoder = { readonly kind: 'group'; readonly batch: RowGroupBatch } | { readonly kind: 'finish' };
export type FromEncoder = { readonly bytes: Uint8Array } | { readonly error: { readonly message: string; readonly stack?: string } };

const port = parentPort!;
const encoder = new ParquetFileEncoder(workerData as ParquetFileMeta);
port.on('message', (m: ToEncoder) => {
  let reply: FromEncoder;
  try {
    reply = { bytes: m.kind === 'group' ? encoder.group(m.batch) : encoder.finish() };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    port.postMessage({ error: { message: err.message, ...(err.stack ? { stack: err.stack } : {}) } } satisfies FromEncoder);
    return;
  }
  // handOver() gives each chunk an ArrayBuffer of its own: transferring it copies nothing.
  port.postMessage(reply, [reply.bytes.buffer as ArrayBuffer]);
});
