/**
 * `patchscan serve`: the site server. Clients POST their inventory; each authenticates with its own token and may
 * only speak for itself. The upload is committed durably (SQLite, synchronous = FULL) before the 202 answer, and
 * its scan is queued — expedited uploads jump the queue. The same process runs the scan queue and, when a sync
 * source is configured, the scheduled catalog sync (in a child process, so a big import never stalls uploads).
 *
 *   POST /v1/inventory[?expedited=1]      Bearer <client token>; JSON or msgpack; gzip allowed
 *   GET  /v1/computers/<name>/compliance  Bearer <admin token>, or the computer's own token
 *   GET  /v1/summary                      Bearer <admin token>
 *   GET  /healthz                         no auth: liveness and the catalog in service
 *   GET  /metrics                         no auth: Prometheus text format (no names, no tokens)
 *
 * Limits: body size (413 before reading past it), inflated size, inventory limits (400 naming the field),
 * uploads per client per minute (429), header and request timeouts (slow clients are cut). Tokens are never logged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { Packr } from 'msgpackr';
import { PatchscanError } from '../../engine/errors.js';
import { decodeInventory, DEFAULT_INVENTORY_LIMITS } from '../../engine/inventory/validate.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { variantOf } from '../site/objects.js';
import { CatalogVersions, collectionSummary, complianceTrend, computerCompliance, fleetSummary, groupSummary, searchComputers, staleClients, updateCompliance } from '../site/reports.js';
import { createConsole } from './console.js';
import { toCsv } from '../report/csv.js';
import { SiteScanner } from '../site/scan-service.js';
import type { Site } from '../site/site.js';
import { TargetingSnapshot } from '../site/targeting.js';
import { PRIORITY_EXPEDITED, PRIORITY_NORMAL, sha256Hex, type ClientRow } from '../store/site-store.js';

export interface ServeOptions {
  /** host:port; default from the site configuration (loopback). Port 0 picks a free port. */
  readonly listen?: string;
  /** Run the scan queue in this process (default true). */
  readonly scanQueue?: boolean;
  /** Run the scheduled sync (default: when the configuration names a sync source). */
  readonly scheduledSync?: boolean;
  /** How to start `patchscan sync` for the schedule (default: this Node.js running the CLI). */
  readonly syncCommand?: readonly string[];
  readonly log?: (line: string) => void;
}

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  /** Resolves when the scan queue is empty (for tests and `--once` style callers). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const packr = new Packr({ useRecords: false });

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; version=0.0.4' : 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** Reads a body up to `max` bytes; 413 as soon as it is known to be larger. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) return Promise.reject(new HttpError(413, 'TOO_LARGE', `the body is ${declared} bytes; the limit is ${max} (limits.maxUploadBytes)`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        reject(new HttpError(413, 'TOO_LARGE', `the body is more than ${max} bytes (limits.maxUploadBytes)`));
        req.pause();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, n)));
    req.on('error', reject);
  });
}

function inflate(body: Buffer, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: max }, (e, out) => {
      if (!e) resolve(out);
      else if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) reject(new HttpError(413, 'TOO_LARGE', `the inventory inflates past ${max} bytes (limits.maxInventoryBytes)`));
      else reject(new HttpError(400, 'BAD_ENCODING', `the body is not valid gzip: ${e.message}`));
    });
  });
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

/** Counts per minute per client, for 429s. */
class RateLimiter {
  private readonly windows = new Map<number, { start: number; count: number }>();
  constructor(private readonly perMinute: number) {}
  take(id: number): number | undefined {
    const t = Date.now();
    const w = this.windows.get(id);
    if (!w || t - w.start >= 60_000) {
      this.windows.set(id, { start: t, count: 1 });
      if (this.windows.size > 100_000) this.windows.clear();
      return undefined;
    }
    if (w.count >= this.perMinute) return Math.ceil((w.start + 60_000 - t) / 1000);
    w.count++;
    return undefined;
  }
}

interface PendingUpload {
  readonly clientId: number;
  readonly body: Uint8Array;
  readonly arch: string;
  readonly expedited: boolean;
}

/**
 * Group commit: uploads that arrive within the same turn of the event loop are written in one transaction, so one
 * fsync serves them all; each upload's promise settles only after that commit (durability is unchanged).
 */
class GroupCommit {
  private batch: { item: PendingUpload; resolve: (id: number) => void; reject: (e: unknown) => void }[] = [];
  constructor(private readonly store: Site['store']) {}

  add(item: PendingUpload): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.batch.length === 0) setImmediate(() => this.flush());
      this.batch.push({ item, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    let ids: number[];
    try {
      ids = this.store.tx(() => batch.map(({ item }) => {
        const id = this.store.addInventory(item.clientId, item.body, item.arch);
        this.store.enqueue(item.clientId, item.expedited ? PRIORITY_EXPEDITED : PRIORITY_NORMAL, item.expedited ? 'expedited upload' : 'upload');
        return id;
      }));
    } catch (e) {
      for (const b of batch) b.reject(e);
      return;
    }
    batch.forEach((b, k) => b.resolve(ids[k]!));
  }
}

export async function serve(site: Site, o: ServeOptions = {}): Promise<RunningServer> {
  const store = site.store;
  const log = o.log ?? (() => undefined);
  const limits = site.config.limits;
  const inventoryLimits = { ...DEFAULT_INVENTORY_LIMITS, maxBytes: limits.maxInventoryBytes };
  const scanner = new SiteScanner(site);
  const catalogs = new CatalogVersions(store);
  const limiter = new RateLimiter(limits.uploadsPerMinute);
  const metrics = { uploadsAccepted: 0, uploadsRejected: 0, scans: 0, requests: new Map<number, number>() };
  const adminHash = store.setting('admin_token_hash');
  const consolePages = createConsole(store, catalogs);
  const commits = new GroupCommit(store);
  const targeting = new TargetingSnapshot(store);

  const isAdmin = (token: string | undefined): boolean => token !== undefined && adminHash !== undefined && sha256Hex(token) === adminHash;

  function authClient(req: IncomingMessage): ClientRow {
    const token = bearer(req);
    if (!token) throw new HttpError(401, 'UNAUTHENTICATED', 'send the client token as "Authorization: Bearer <token>" (patchscan client enroll NAME issues one)', { 'www-authenticate': 'Bearer' });
    const client = store.clientByToken(token);
    if (!client) throw new HttpError(401, 'UNAUTHENTICATED', 'the token is not valid (enroll the client again to get a new one)', { 'www-authenticate': 'Bearer error="invalid_token"' });
    return client;
  }

  async function upload(req: IncomingMessage, url: URL): Promise<[number, unknown]> {
    const client = authClient(req);
    const retry = limiter.take(client.id);
    if (retry !== undefined) throw new HttpError(429, 'TOO_MANY_REQUESTS', `more than ${limits.uploadsPerMinute} uploads in a minute from ${client.name}`, { 'retry-after': String(retry) });
    let body = await readBody(req, limits.maxUploadBytes);
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'gzip') body = await inflate(body, limits.maxInventoryBytes);
    else if (encoding !== 'identity') throw new HttpError(415, 'UNSUPPORTED_ENCODING', `Content-Encoding ${encoding} is not supported (send identity or gzip)`);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const format = type === 'application/json' ? 'json' : type === 'application/msgpack' || type === 'application/x-msgpack' || type === 'application/vnd.msgpack' ? 'msgpack' : undefined;
    if (!format) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json or application/msgpack, got ${JSON.stringify(type)}`);
    let inv: Inventory;
    try {
      inv = decodeInventory(body, 'upload', format, inventoryLimits);
    } catch (e) {
      if (PatchscanError.is(e)) throw new HttpError(e.message.includes('bytes allowed') ? 413 : 400, e.code, e.message);
      throw e;
    }
    if (inv.computer.name.toLowerCase() !== client.name.toLowerCase()) {
      throw new HttpError(403, 'FORBIDDEN', `this token belongs to ${client.name}; it cannot upload the inventory of ${inv.computer.name}`);
    }
    const expedited = url.searchParams.get('expedited') === '1' || url.searchParams.get('expedited') === 'true';
    const arch = variantOf(inv.processor?.architecture) ?? 'other';
    const stored = Buffer.from(packr.pack(inv));
    // Committed (fsync'd) before we answer: an accepted upload survives a crash or a power cut. Uploads arriving
    // together share one transaction (group commit): one fsync for many, each answered after it.
    const id = await commits.add({ clientId: client.id, body: stored, arch, expedited });
    metrics.uploadsAccepted++;
    const target = targeting.program({ name: client.name, architecture: arch }, expedited);
    kick();
    return [202, { accepted: true, computer: client.name, inventory: id, queued: expedited ? 'expedited' : 'normal', targeted: target !== undefined, ...(target ? { program: target.program, collection: target.collection } : { note: 'no advertised collection targets this computer yet: the inventory is kept and scanned once one does' }) }];
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://patchscan');
    let status = 500;
    try {
      if (!url.pathname.startsWith('/v1/') && url.pathname !== '/healthz' && url.pathname !== '/metrics' && (await consolePages(req, res, url))) {
        status = res.statusCode;
      } else if (req.method === 'POST' && url.pathname === '/v1/inventory') {
        const [s, body] = await upload(req, url);
        status = s;
        send(res, s, body);
      } else if (req.method === 'GET' && url.pathname === '/healthz') {
        status = 200;
        const cat = store.currentCatalog();
        send(res, 200, { status: 'ok', catalog: cat ? { id: cat.id, sha256: cat.sha256, revisions: cat.revisions } : null, queue: store.queueLength() });
      } else if (req.method === 'GET' && url.pathname === '/metrics') {
        status = 200;
        send(res, 200, metricsText());
      } else if (req.method === 'GET' && url.pathname === '/v1/summary') {
        if (!isAdmin(bearer(req))) throw new HttpError(401, 'UNAUTHENTICATED', 'the fleet summary needs the admin token', { 'www-authenticate': 'Bearer' });
        status = 200;
        send(res, 200, fleetSummary(store));
      } else if (req.method === 'GET' && (url.pathname.startsWith('/v1/reports/') || url.pathname === '/v1/computers' || url.pathname.startsWith('/v1/updates/') || url.pathname === '/v1/sync')) {
        if (!isAdmin(bearer(req))) throw new HttpError(401, 'UNAUTHENTICATED', 'reports need the admin token', { 'www-authenticate': 'Bearer' });
        const q = url.searchParams;
        const limit = Math.min(1000, Math.max(1, Number(q.get('limit') ?? 100) || 100));
        const offset = Math.max(0, Number(q.get('offset') ?? 0) || 0);
        let data: unknown;
        let rows: readonly object[] | undefined;
        switch (url.pathname) {
          case '/v1/computers': data = searchComputers(store, q.get('q') ?? '', limit, offset); rows = (data as { items: object[] }).items; break;
          case '/v1/reports/collections': data = rows = collectionSummary(store); break;
          case '/v1/reports/classifications': data = rows = groupSummary(store, 'classification'); break;
          case '/v1/reports/products': data = rows = groupSummary(store, 'product'); break;
          case '/v1/reports/stale': data = staleClients(store, Number(q.get('days') ?? 7) || 0, limit, offset); rows = (data as { items: object[] }).items; break;
          case '/v1/reports/trend': data = rows = complianceTrend(store, Number(q.get('days') ?? 90) || 90); break;
          case '/v1/sync': data = { catalog: store.currentCatalog() ?? null, messages: store.syncMessages(limit) }; rows = (data as { messages: object[] }).messages; break;
          default: {
            const id = decodeURIComponent(url.pathname.slice('/v1/updates/'.length));
            const u = url.pathname.startsWith('/v1/updates/') ? updateCompliance(store, catalogs, id, { ...(q.get('state') ? { state: q.get('state')! } : {}), limit, offset }) : undefined;
            if (!u) throw new HttpError(404, 'NOT_FOUND', url.pathname.startsWith('/v1/updates/') ? `no update ${id} in the catalog in service` : `no report ${url.pathname}`);
            data = u;
            rows = u.machines.items;
          }
        }
        status = 200;
        if (q.get('format') === 'csv') {
          res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'cache-control': 'no-store' });
          res.end(toCsv(rows ?? []));
        } else send(res, 200, data);
      } else if (req.method === 'GET' && /^\/v1\/computers\/[^/]+\/compliance$/.test(url.pathname)) {
        const name = decodeURIComponent(url.pathname.split('/')[3]!);
        const token = bearer(req);
        if (!isAdmin(token)) {
          const client = authClient(req);
          if (client.name.toLowerCase() !== name.toLowerCase()) throw new HttpError(403, 'FORBIDDEN', `this token belongs to ${client.name}; it cannot read the compliance of ${name}`);
        }
        const c = computerCompliance(store, catalogs, name);
        if (!c) throw new HttpError(404, 'NOT_FOUND', store.client(name) ? `${name} has not been scanned yet` : `no computer named ${name}`);
        status = 200;
        if (url.searchParams.get('format') === 'csv') {
          res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'cache-control': 'no-store' });
          res.end(toCsv(c.updates.map((u) => ({ computer: c.computer, kb: u.kb, title: u.title, classification: u.classification, severity: u.severity, state: u.state, superseded: u.superseded, reason: u.reason, scannedAt: c.scannedAt, catalog: c.catalog.sha256 }))));
        } else send(res, 200, c);
      } else {
        throw new HttpError(404, 'NOT_FOUND', `no route ${req.method ?? ''} ${url.pathname}`);
      }
    } catch (e) {
      const sqlite = (e as { code?: unknown }).code;
      const storeDown = typeof sqlite === 'string' && /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED)/.test(sqlite);
      const err = e instanceof HttpError
        ? e
        : storeDown
          ? new HttpError(503, 'STORE_UNAVAILABLE', `the site database cannot be written now (${sqlite}: disk full, read-only or busy); nothing was stored — send it again later`, { 'retry-after': '60' })
          : new HttpError(500, 'INTERNAL', 'internal error');
      if (!(e instanceof HttpError)) log(`${storeDown ? 'store unavailable' : 'internal error'} on ${req.method ?? ''} ${url.pathname}: ${(e as Error).stack ?? String(e)}`);
      status = err.status;
      if (url.pathname === '/v1/inventory') metrics.uploadsRejected++;
      if (!res.headersSent) send(res, err.status, { error: { code: err.code, message: err.message } }, { ...err.headers, ...(err.status === 413 ? { connection: 'close' } : {}) });
      if (err.status === 413) req.resume();
    } finally {
      metrics.requests.set(status, (metrics.requests.get(status) ?? 0) + 1);
    }
  }

  function metricsText(): string {
    const q = store.queueLength();
    const lines = [
      '# TYPE patchscan_uploads_total counter',
      `patchscan_uploads_total{result="accepted"} ${metrics.uploadsAccepted}`,
      `patchscan_uploads_total{result="rejected"} ${metrics.uploadsRejected}`,
      '# TYPE patchscan_scans_total counter',
      `patchscan_scans_total ${metrics.scans}`,
      '# TYPE patchscan_scan_queue gauge',
      `patchscan_scan_queue{priority="expedited"} ${q.expedited}`,
      `patchscan_scan_queue{priority="normal"} ${q.normal}`,
      '# TYPE patchscan_http_responses_total counter',
      ...[...metrics.requests].map(([code, n]) => `patchscan_http_responses_total{code="${code}"} ${n}`),
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
    ];
    return `${lines.join('\n')}\n`;
  }

  // ---- the scan queue: runs whenever there is work, a little at a time so uploads keep flowing.
  const queueOn = o.scanQueue ?? true;
  let running = false;
  let closed = false;
  let idleWaiters: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  function kick(): void {
    if (!queueOn || running || closed) return;
    running = true;
    setImmediate(step);
  }
  function step(): void {
    if (closed) return;
    let r;
    try {
      r = scanner.runQueue(25, 5);
    } catch (e) {
      log(`scan queue: ${(e as Error).message}`);
      r = { scanned: 0, skipped: 0, shared: 0 };
    }
    metrics.scans += r.scanned;
    if (r.scanned + r.skipped > 0) {
      setImmediate(step);
      return;
    }
    running = false;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }
  // Work queued by other processes (`patchscan rescan`, a sync) is picked up by polling.
  if (queueOn) timer = setInterval(kick, 500);

  // ---- the scheduled sync, in a child process.
  let syncChild: ChildProcess | undefined;
  let syncTimer: NodeJS.Timeout | undefined;
  if ((o.scheduledSync ?? site.config.sync.source !== undefined) && site.config.sync.source) {
    const every = site.config.sync.everyHours * 3_600_000;
    const runScheduledSync = (): void => {
      if (syncChild || closed) return;
      const cmd = o.syncCommand ?? [process.execPath, process.argv[1]!, 'sync', '--data', site.dir];
      log(`scheduled sync: ${cmd.slice(2).join(' ')}`);
      syncChild = spawn(cmd[0]!, cmd.slice(1), { stdio: 'ignore' });
      syncChild.on('exit', (code) => {
        syncChild = undefined;
        // 1: busy (another sync of this site is running; the next schedule tries again) or an I/O error; 2: failed.
        if (code) log(`scheduled sync: exited with status ${code} (see logs/wsyncmgr.log)`);
        kick();
      });
    };
    const last = store.syncMessages(1)[0];
    const due = !last || Date.now() - Date.parse(last.at) >= every;
    if (due) setImmediate(runScheduledSync);
    syncTimer = setInterval(runScheduledSync, every);
  }

  const tls = site.config.tls;
  // Slow clients are cut (slow-loris): headers within limits.headersTimeoutMs, the whole request within
  // requestTimeoutMs; Node checks them on connectionsCheckingInterval, kept below the smaller one.
  const timing = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(limits.headersTimeoutMs / 4))),
    keepAliveTimeout: 5_000,
  };
  const server = tls
    ? createHttpsServer({ ...timing, cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => void handle(req, res))
    : createHttpServer(timing, (req, res) => void handle(req, res));
  const listen = o.listen ?? site.config.listen;
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new PatchscanError('BAD_ARGUMENT', `listen address ${JSON.stringify(listen)} must be host:port, e.g. 127.0.0.1:8530`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new PatchscanError('IO', `cannot listen on ${listen}: ${e.message}`, {}, { cause: e })));
    server.listen(Number(m[2]), host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  kick();

  return {
    url,
    server,
    idle: () =>
      new Promise<void>((resolve) => {
        if (!queueOn) return resolve();
        idleWaiters.push(resolve);
        kick();
        if (!running) {
          idleWaiters = idleWaiters.filter((w) => w !== resolve);
          resolve();
        }
      }),
    close: async () => {
      closed = true;
      if (timer) clearInterval(timer);
      if (syncTimer) clearInterval(syncTimer);
      syncChild?.kill('SIGTERM');
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
