/**
 * GET /healthz (liveness, the catalog in service, the queue) and GET /metrics (Prometheus text; no names, no
 * tokens). Neither needs a token; both answer from the database without writing to it.
 */
import { send } from '../http.js';
import type { Route } from './context.js';

export const healthRoutes: Route = async (ctx, req, res, url) => {
  if (req.method !== 'GET') return false;
  if (url.pathname === '/healthz') {
    const cat = await ctx.store.currentCatalog();
    const q = await ctx.store.queueStatus();
    send(res, 200, {
      status: 'ok',
      catalog: cat ? { id: cat.id, sha256: cat.sha256, revisions: cat.revisions } : null,
      queue: q.queued,
      running: q.active,
      failed: q.failed,
    });
    return true;
  }
  if (url.pathname === '/metrics') {
    const q = await ctx.store.queueStatus();
    const m = ctx.metrics;
    const lines = [
      '# TYPE patchscan_uploads_total counter',
      `patchscan_uploads_total{result="accepted"} ${m.uploadsAccepted}`,
      `patchscan_uploads_total{result="rejected"} ${m.uploadsRejected}`,
      '# TYPE patchscan_scans_total counter',
      `patchscan_scans_total ${m.scans}`,
      '# TYPE patchscan_scan_queue gauge',
      `patchscan_scan_queue{priority="expedited"} ${q.queued.expedited}`,
      `patchscan_scan_queue{priority="normal"} ${q.queued.normal}`,
      '# TYPE patchscan_scan_jobs_running gauge',
      `patchscan_scan_jobs_running ${q.active}`,
      '# TYPE patchscan_scan_jobs_failed gauge',
      `patchscan_scan_jobs_failed ${q.failed}`,
      '# TYPE patchscan_http_responses_total counter',
      ...[...m.requests].map(([code, n]) => `patchscan_http_responses_total{code="${code}"} ${n}`),
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
    ];
    send(res, 200, `${lines.join('\n')}\n`);
    return true;
  }
  return false;
};
