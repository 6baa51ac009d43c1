/**
 * `patchscan serve`: the site server. Clients POST their inventory; each authenticates with its own token and may
 * only speak for itself. The upload is committed durably with its scan job before the 202 answer. The same process
 * runs scan jobs (unless `scanQueue: false`: then `patchscan worker` processes do; on SQLite on a thread of their own,
 * scan-thread.ts) and, when a sync source is
 * configured, the scheduled catalog sync (in a child process, so a big import never stalls uploads).
 *
 * Routes, one file per group (routes/): upload.ts, reports.ts, groups.ts, health.ts; the web console (console.ts) answers
 * everything outside /v1/, /healthz and /metrics.
 *
 * Limits: body size (413 before reading past it), inflated size, inventory limits (400 naming the field),
 * uploads per client per minute (429), header and request timeouts (slow clients are cut). Tokens are never logged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PatchscanError } from '../../engine/errors.js';
import { parseListen } from '../site/config.js';
import { CatalogVersions } from '../site/reports.js';
import { ScanService } from '../site/scan-service.js';
import { ScanQueueThread } from './scan-queue-thread.js';
import type { Site } from '../site/site.js';
import type { ClientRow } from '../store/port.js';
import { sha256Hex } from '../store/sql/store.js';
import { createConsole } from './console/index.js';
import { bearer, HttpError, requestUrl, send, unparsedRequestAnswer } from './http.js';
import type { Metrics, Route, RouteContext } from './routes/context.js';
import { groupRoutes } from './routes/groups.js';
import { healthRoutes } from './routes/health.js';
import { catalogRoutes } from './routes/catalogs.js';
import { reportRoutes } from './routes/reports.js';
import { uploadRoute } from './routes/upload.js';

/**
 * Connections open at once, when the configuration has no `limits.maxConnections`: past it, a new connection is
 * closed as soon as it is accepted (Node's `server.maxConnections`), so clients that connect and wait cannot use up
 * the process's file descriptors. Idle connections are also closed after `limits.headersTimeoutMs` (see serve()).
 */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

export interface ServeOptions {
  /** host:port; default from the site configuration (loopback). Port 0 picks a free port. */
  readonly listen?: string;
  /** Run scan jobs in this process (default true). */
  readonly scanQueue?: boolean;
  /** Worker threads that run the engine for those scans (default 1: no scan runs on the HTTP event loop). */
  readonly scanThreads?: number;
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

/** Errors that mean "the database cannot take this now": 503 with Retry-After, nothing stored. */
function storeUnavailable(e: unknown): boolean {
  if (PatchscanError.is(e)) return e.code === 'STORE_UNAVAILABLE';
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED)/.test(code);
}

/** What a client is told: the cause's code, never a path or a URL. */
function unavailableMessage(e: unknown): string {
  const d = PatchscanError.is(e) ? e.details : {};
  const code = String(d.sqlite ?? d.cause ?? (e as { code?: unknown }).code ?? 'unavailable');
  const what = code.startsWith('SQLITE_') ? 'disk full, read-only or busy' : 'the database server is unreachable or refused the write';
  return `the site database cannot be written now (${code}: ${what}); nothing was stored — send it again later`;
}

export async function serve(site: Site, o: ServeOptions = {}): Promise<RunningServer> {
  const store = site.store;
  const userLog = o.log ?? (() => undefined);
  // Logging must never take the server down (a full disk under a log file, a closed stderr): a sink that throws,
  // or returns a promise that rejects, loses the line and nothing else. A stream sink reports a failed write as an
  // 'error' event instead; see the guard on process.stderr below.
  const log = (line: string): void => {
    try {
      const r = userLog(line) as unknown;
      if (r instanceof Promise) r.catch(() => undefined);
    } catch {
      /* nothing sensible left to do with the line */
    }
  };
  const limits = site.config.limits;
  const metrics: Metrics = { uploadsAccepted: 0, uploadsRejected: 0, scans: 0, requests: new Map<number, number>() };
  const catalogs = new CatalogVersions(store, site.catalogsDir);

  const ctx: RouteContext = {
    site,
    store,
    catalogs,
    metrics,
    log,
    async isAdmin(req: IncomingMessage): Promise<boolean> {
      const token = bearer(req);
      const adminHash = await store.setting('admin_token_hash');
      return token !== undefined && adminHash !== undefined && sha256Hex(token) === adminHash;
    },
    async authClient(req: IncomingMessage): Promise<ClientRow> {
      const token = bearer(req);
      if (!token)
        throw new HttpError(
          401,
          'UNAUTHENTICATED',
          'send the client token as "Authorization: Bearer <token>" (patchscan client enroll NAME issues one)',
          { 'www-authenticate': 'Bearer' },
        );
      const client = await store.clientByToken(token);
      if (!client)
        throw new HttpError(401, 'UNAUTHENTICATED', 'the token is not valid (enroll the client again to get a new one)', {
          'www-authenticate': 'Bearer error="invalid_token"',
        });
      return client;
    },
    kick: () => kick(),
  };
  // Over HTTPS the session cookie is Secure: a browser never sends it over plain HTTP.
  const consolePages = createConsole(store, catalogs, { secureCookie: site.config.tls !== undefined });
  const routes: Route[] = [uploadRoute(ctx), healthRoutes, catalogRoutes, reportRoutes, groupRoutes];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Until the target is parsed, messages name the raw target (cut short); nothing may throw outside the try.
    let path = (req.url ?? '/').slice(0, 200);
    let status = 500;
    try {
      const url = requestUrl(req);
      path = url.pathname;
      let done = false;
      if (!url.pathname.startsWith('/v1/') && url.pathname !== '/healthz' && url.pathname !== '/metrics')
        done = await consolePages(req, res, url);
      for (const route of routes) if (!done) done = await route(ctx, req, res, url);
      if (!done) throw new HttpError(404, 'NOT_FOUND', `no route ${req.method ?? ''} ${url.pathname}`);
      status = res.statusCode;
    } catch (e) {
      const down = storeUnavailable(e);
      const err =
        e instanceof HttpError
          ? e
          : down
            ? new HttpError(503, 'STORE_UNAVAILABLE', unavailableMessage(e), { 'retry-after': '60' })
            : new HttpError(500, 'INTERNAL', 'internal error');
      // A client that hung up mid-request (aborted, reset) is not a fault of ours: one line, no stack.
      const gone = !(e instanceof HttpError) && (req.aborted || req.destroyed) && isClientGone(e);
      if (gone) log(`client went away during ${req.method ?? ''} ${JSON.stringify(path)}: ${(e as Error).message}`);
      else if (!(e instanceof HttpError))
        log(
          `${down ? 'store unavailable' : 'internal error'} on ${req.method ?? ''} ` +
            `${JSON.stringify(path)}: ` +
            `${down ? (e as Error).message : ((e as Error).stack ?? String(e))}`,
        );
      status = err.status;
      if (path === '/v1/inventory' && req.method === 'POST') metrics.uploadsRejected++;
      if (!res.headersSent)
        send(
          res,
          err.status,
          { error: { code: err.code, message: err.message } },
          { ...err.headers, ...(err.status === 413 ? { connection: 'close' } : {}) },
        );
      if (err.status === 413) req.resume();
    } finally {
      metrics.requests.set(status, (metrics.requests.get(status) ?? 0) + 1);
    }
  }

  // ---- scan jobs: run whenever there is work, a little at a time so uploads keep flowing.
  const scanner = new ScanService(site, { threads: o.scanThreads ?? 1 });
  const queueOn = o.scanQueue ?? true;
  // On SQLite the whole queue runs on a thread of its own with its own connection (scan-thread.ts): storing a
  // batch's result sets is synchronous SQLite work that held this loop for hundreds of ms. On PostgreSQL the
  // driver's calls already leave the loop, and the engine runs on the pool's threads.
  const queueThread =
    queueOn && !site.shared
      ? new ScanQueueThread(
          { dir: site.dir, config: site.config, threads: o.scanThreads ?? 1, leaseSeconds: site.config.queue.leaseSeconds },
          site.store,
          (n) => {
            metrics.scans += n;
          },
          log,
        )
      : undefined;
  let running = false;
  let closed = false;
  let idleWaiters: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  function kick(): void {
    if (queueThread) {
      if (!closed) queueThread.kick();
      return;
    }
    if (!queueOn || running || closed) return;
    running = true;
    setImmediate(() => void step());
  }
  function settle(): void {
    running = false;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }
  async function step(): Promise<void> {
    if (closed) return settle(); // close() waits for `running` to fall

    let r;
    try {
      r = await scanner.runQueueStep(site.config.queue.leaseSeconds);
    } catch (e) {
      log(`scan queue: ${(e as Error).message}`);
      r = { scanned: 0, skipped: 0, shared: 0 };
    }
    metrics.scans += r.scanned;
    if (r.scanned + r.skipped > 0 && !closed) {
      setImmediate(() => void step());
      return;
    }
    settle();
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
  /** Per TLS connection (by its remote address and port) that has not sent a request yet: the timer that cuts it. */
  const idleCut = new Map<string, NodeJS.Timeout>();
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // The connection's idle timer (below) ends with its first request: from here on headersTimeout, requestTimeout
    // and keepAliveTimeout apply, and an answer that takes long to compute (a lock waited for) is not cut.
    req.socket.setTimeout(0);
    const key = connectionKey(req.socket);
    const idle = idleCut.get(key);
    if (idle !== undefined) {
      clearTimeout(idle);
      idleCut.delete(key);
    }
    // On every answer (JSON, CSV, text, HTML, redirects, errors): no content sniffing (a CSV or a JSON body is never
    // run as a page), no Referer leaving a console page; over HTTPS, browsers keep to HTTPS for a year.
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    if (tls) res.setHeader('strict-transport-security', 'max-age=31536000');
    void handle(req, res);
  };
  const server = tls
    ? createHttpsServer(
        { ...timing, handshakeTimeout: limits.headersTimeoutMs, cert: readFileSync(tls.cert), key: readFileSync(tls.key) },
        onRequest,
      )
    : createHttpServer(timing, onRequest);
  // Node's headersTimeout starts with a request's first byte: a connection that never sends one stayed open for
  // ever (thousands of them, each a file descriptor). One that sends no request within headersTimeoutMs is closed
  // (Node destroys a socket whose timeout nobody handles); with TLS the handshake has the same time.
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => socket.setTimeout(limits.headersTimeoutMs));
  // A request the HTTP parser refuses: answered as Node itself would — only when no answer to an earlier request on
  // the connection is part-way out (Node's own check, on the socket's in-flight response), then closed — but with a
  // JSON error saying what was wrong instead of a bare status line.
  server.on('clientError', (e: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (e.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) socket.write(unparsedRequestAnswer(e.code));
    socket.destroy();
  });
  if (tls) {
    // A backstop: every accepted connection is also cut by a timer of its own unless a request has come on it within
    // headersTimeoutMs (raw.destroy() closes the TCP handle the TLS socket wraps). The handshake timeout (a
    // 'tlsClientError', which https.Server answers by destroying the socket), the idle timeout above and Node's
    // headersTimeout (a 408, then close) already close such connections; the "one in a hundred left open" this was
    // added for was the test's client never reading that 408, so never seeing the server's close.
    server.on('connection', (raw: Socket) => {
      const key = connectionKey(raw);
      const cut = setTimeout(() => raw.destroy(), limits.headersTimeoutMs);
      cut.unref();
      idleCut.set(key, cut);
      raw.once('close', () => {
        clearTimeout(cut);
        if (idleCut.get(key) === cut) idleCut.delete(key);
      });
    });
  }
  server.maxConnections = limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  let droppedAt = 0;
  server.on('drop', () => {
    if (Date.now() - droppedAt < 60_000) return;
    droppedAt = Date.now();
    log(`connection limit reached (${server.maxConnections} open): new connections are closed until some end (limits.maxConnections)`);
  });
  const listen = o.listen ?? site.config.listen;
  const at = parseListen(listen);
  if (!at) throw new PatchscanError('BAD_ARGUMENT', `listen address ${JSON.stringify(listen)} must be host:port, e.g. 127.0.0.1:8530`);
  // Listen first: nothing (no timer, no child) may start before the port is ours, or a port in use would leave a
  // process that neither serves nor exits.
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const why =
        e.code === 'EADDRINUSE'
          ? `the port is already in use (another process listens there, perhaps another ` +
            `patchscan serve: stop it, or choose another address with --listen or "listen" ` +
            `in patchscan.json)`
          : e.code === 'EACCES'
            ? 'permission denied (a port below 1024 needs privileges: choose a higher one)'
            : e.code === 'EADDRNOTAVAIL'
              ? 'no network interface of this machine has that address'
              : e.message;
      reject(new PatchscanError('IO', `cannot listen on ${listen}: ${why}`, { syscode: e.code }, { cause: e }));
    });
    server.listen(at.port, at.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  // Tokens travel as bearer headers: off the loopback interface, plain HTTP shows them to anyone on the path.
  if (!tls && !isLoopbackAddress(addr.address))
    log(
      `warning: listening on ${addr.address} over plain HTTP: client and admin tokens cross the network readable by anyone ` +
        `on the path; configure "tls" in patchscan.json (a certificate and key), or listen on 127.0.0.1 behind a TLS proxy`,
    );

  // The log usually goes to stderr (the CLI's sink). When stderr is a file on a full disk (EFBIG, ENOSPC) or a pipe
  // nobody reads (EPIPE), the failed write is an 'error' event on process.stderr, and one nobody listens for ends the
  // process: the server would die of its own 503 log line. While serving, such errors lose the line and nothing else.
  // Always ours, whoever else listens: a worker thread's stderr is piped into process.stderr, and that pipe's own
  // 'error' listener re-throws when it finds no other one (the read and scan threads are such workers).
  const stderrGuard = (): void => undefined;
  process.stderr.on('error', stderrGuard);

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
      // A child that cannot be started (EAGAIN, ENOMEM, a missing executable) is an 'error' event: unheard, it
      // would end the server. The next schedule tries again.
      syncChild.on('error', (e) => {
        syncChild = undefined;
        log(`scheduled sync: cannot start ${cmd[0]!}: ${e.message}`);
      });
      syncChild.on('exit', (code) => {
        syncChild = undefined;
        // 1: busy (another sync of this site is running; the next schedule tries again) or an I/O error; 2: failed.
        if (code) log(`scheduled sync: exited with status ${code} (see logs/wsyncmgr.log)`);
        kick();
      });
    };
    const last = (await store.syncMessages(1))[0];
    const due = !last || Date.now() - Date.parse(last.at) >= every;
    if (due) setImmediate(runScheduledSync);
    syncTimer = setInterval(runScheduledSync, every);
  }
  kick();
  // Result sets stored before the counting rule are recounted per classification and product (result-groups.ts),
  // scan queue or not (a --no-scan server still serves the reports); reports leave them out until then.
  // The scan thread recounts before its first batch (its own ScanService): once per process, not twice.
  const recount = queueThread ? undefined : scanner.recountStale();

  return {
    url,
    server,
    idle: () =>
      queueThread?.idle() ??
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
      // Let a scan step in flight finish before the caller closes the store under it.
      while (running) await new Promise((r) => setTimeout(r, 10));
      await queueThread?.close();
      await recount;
      await scanner.close();
      process.stderr.off('error', stderrGuard);
    },
  };
}

/** A connection's client end, the same for a TLS socket and the TCP socket under it. */
function connectionKey(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
}

/** Whether an address is of the loopback interface (127.0.0.0/8, ::1, an IPv4-mapped 127.x). */
export function isLoopbackAddress(a: string): boolean {
  return /^127\./.test(a) || a === '::1' || /^::ffff:127\./i.test(a);
}

/** Errors a request's stream gives when its client hangs up: not the server's fault. */
function isClientGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'EPIPE' || (e as Error | undefined)?.message === 'aborted';
}
