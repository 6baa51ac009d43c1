/**
 * The site configuration, `patchscan.json`: its shape, its defaults, and the check every key passes when the file is
 * read — so that a typo or a wrong type stops the command that reads it with the key named and what it accepts,
 * instead of surfacing later (a server that fails to listen hours after start) or being read as "nothing" (a
 * retention limit of 0 deleting history). Keys not listed here are refused with the nearest known one suggested.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchscanError } from '../../engine/errors.js';
import { writeFileAtomic } from '../../engine/io/atomic-file.js';
import { nearest } from '../text/nearest-name.js';

export interface SiteConfig {
  /**
   * The site database: a SQLite file (relative to the data directory), or a `postgres://` URL. The URL may name
   * its password through the environment instead (PGPASSWORD); it is never printed.
   */
  readonly database: string;
  /** host:port for `patchscan serve`; loopback unless an administrator changes it. */
  readonly listen: string;
  /** PEM files: with both, the server speaks HTTPS. */
  readonly tls?: { readonly cert: string; readonly key: string };
  readonly sync: {
    /** An http(s) URL, or a folder an administrator fills (the air-gapped case). */
    readonly source?: string;
    readonly everyHours: number;
    /** Largest catalog download accepted. */
    readonly maxBytes: number;
    /** No byte for this long → the attempt fails (and is retried). */
    readonly timeoutMs: number;
    readonly retries: number;
    readonly backoffMs: number;
  };
  /** The scan queue (both backends): how long a taken job is a worker's before it is handed out again, retries. */
  readonly queue: {
    readonly leaseSeconds: number;
    readonly retries: number;
    readonly backoffSeconds: number;
    /** PostgreSQL (pg-boss): how often expired leases are noticed and ended jobs archived. */
    readonly maintenanceSeconds: number;
    /** PostgreSQL: how often a worker holding jobs says it is alive; after 3 missed beats its jobs are retried. */
    readonly heartbeatSeconds: number;
  };
  readonly limits: {
    /** Largest upload body (as sent, possibly gzip). */
    readonly maxUploadBytes: number;
    /** Largest inventory after gzip is undone. */
    readonly maxInventoryBytes: number;
    /** Uploads one client may make per minute before getting 429. */
    readonly uploadsPerMinute: number;
    /** A client must send its request headers within this time (slow clients are cut). */
    readonly headersTimeoutMs: number;
    /** ... and its whole request within this time. */
    readonly requestTimeoutMs: number;
    /**
     * Inventories kept per client: the newest this many (and the one its latest scan read), pruned when a new one is
     * stored.
     */
    readonly inventoriesPerClient: number;
    /**
     * Bytes of stored inventories one client may keep: older ones go first; an inventory larger than this alone is
     * refused (413).
     */
    readonly storedBytesPerClient: number;
    /** Connections open at once before new ones are closed on accept (the server's default when absent). */
    readonly maxConnections?: number;
  };
}

export const DEFAULT_CONFIG: SiteConfig = {
  database: 'patchscan.db',
  listen: '127.0.0.1:8530',
  sync: { everyHours: 24, maxBytes: 2 * 1024 ** 3, timeoutMs: 60_000, retries: 3, backoffMs: 2_000 },
  queue: { leaseSeconds: 300, retries: 3, backoffSeconds: 5, maintenanceSeconds: 60, heartbeatSeconds: 10 },
  limits: {
    maxUploadBytes: 8 * 1024 * 1024,
    maxInventoryBytes: 32 * 1024 * 1024,
    uploadsPerMinute: 60,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    inventoriesPerClient: 10,
    storedBytesPerClient: 64 * 1024 * 1024,
  },
};

export const DEFAULT_DATA_DIR = 'patchscan-data';

export function configPath(dir: string): string {
  return join(dir, 'patchscan.json');
}

/** What a key accepts. Whole numbers are what every numeric key is: milliseconds, bytes, counts. */
type KeySpec =
  | { readonly kind: 'whole'; readonly min: number; readonly max?: number }
  | { readonly kind: 'text' }
  | { readonly kind: 'listen' }
  | { readonly kind: 'section'; readonly keys: Readonly<Record<string, KeySpec>>; readonly required?: readonly string[] };

const whole = (min: number, max?: number): KeySpec => ({ kind: 'whole', min, ...(max !== undefined ? { max } : {}) });
const text: KeySpec = { kind: 'text' };

type Section<T> = { readonly [K in keyof T]-?: KeySpec };

/** Every key patchscan.json may hold; the mapped types make a key of SiteConfig without an entry here a compile error. */
export const CONFIG_KEYS = {
  database: text,
  listen: { kind: 'listen' },
  tls: { kind: 'section', keys: { cert: text, key: text } satisfies Section<NonNullable<SiteConfig['tls']>>, required: ['cert', 'key'] },
  sync: {
    kind: 'section',
    keys: {
      source: text,
      everyHours: whole(1, 24 * 366),
      maxBytes: whole(1),
      timeoutMs: whole(1),
      retries: whole(0, 100),
      backoffMs: whole(0),
    } satisfies Section<SiteConfig['sync']>,
  },
  queue: {
    kind: 'section',
    keys: {
      leaseSeconds: whole(1),
      retries: whole(0, 100),
      backoffSeconds: whole(0),
      maintenanceSeconds: whole(1),
      heartbeatSeconds: whole(1, 3600),
    } satisfies Section<SiteConfig['queue']>,
  },
  limits: {
    kind: 'section',
    keys: {
      maxUploadBytes: whole(1),
      maxInventoryBytes: whole(1),
      uploadsPerMinute: whole(1),
      headersTimeoutMs: whole(1),
      requestTimeoutMs: whole(1),
      inventoriesPerClient: whole(1, 10_000),
      storedBytesPerClient: whole(1),
      maxConnections: whole(1),
    } satisfies Section<SiteConfig['limits']>,
  },
} as const satisfies Section<SiteConfig>;

/** host:port with a port from 0 (any free port) to 65535: 127.0.0.1:8530, [::1]:8530, 0.0.0.0:0. */
export function parseListen(listen: string): { readonly host: string; readonly port: number } | undefined {
  const m = /^(.+):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65535) return undefined;
  const host = m[1]!.replace(/^\[|\]$/g, '');
  return host === '' ? undefined : { host, port: Number(m[2]) };
}

/** Adds to `problems` why `value` does not fit `spec`, naming the key and what it accepts. */
function misfit(spec: KeySpec, value: unknown, at: string, problems: string[]): void {
  switch (spec.kind) {
    case 'whole': {
      const range = spec.max !== undefined ? `from ${spec.min} to ${spec.max}` : `${spec.min} or more`;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < spec.min || value > (spec.max ?? Number.MAX_SAFE_INTEGER)) {
        problems.push(`${at} must be a whole number ${range}, got ${JSON.stringify(value)}`);
      }
      return;
    }
    case 'text':
      if (typeof value !== 'string' || value.trim() === '') problems.push(`${at} must be a non-empty string, got ${JSON.stringify(value)}`);
      return;
    case 'listen':
      if (typeof value !== 'string' || !parseListen(value.trim())) {
        problems.push(`${at} must be "host:port" with a port from 0 to 65535 (e.g. "127.0.0.1:8530"), got ${JSON.stringify(value)}`);
      }
      return;
    case 'section': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push(`${at} must be an object with keys ${Object.keys(spec.keys).join(', ')}, got ${JSON.stringify(value)}`);
        return;
      }
      checkKeys(spec.keys, value as Record<string, unknown>, `${at}.`, problems);
      for (const k of spec.required ?? []) {
        if ((value as Record<string, unknown>)[k] === undefined) problems.push(`${at}.${k} is required when ${at} is given`);
      }
    }
  }
}

function checkKeys(keys: Readonly<Record<string, KeySpec>>, obj: Record<string, unknown>, prefix: string, problems: string[]): void {
  for (const [k, v] of Object.entries(obj)) {
    const spec = keys[k];
    if (spec === undefined) {
      const near = nearest(k, Object.keys(keys));
      problems.push(
        `${prefix}${k} is not a configuration key` +
          `${near ? ` (did you mean ${prefix}${near}?)` : ''}; known: ` +
          `${Object.keys(keys).join(', ')}`,
      );
      continue;
    }
    misfit(spec, v, `${prefix}${k}`, problems);
  }
}

/**
 * Checks a parsed patchscan.json (before defaults are merged) and returns the configuration with defaults filled in.
 * Every problem is reported at once, each naming its key and what it accepts.
 */
export function validateConfig(raw: unknown, source = 'patchscan.json'): SiteConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new PatchscanError('BAD_CONFIG', `${source}: must hold a JSON object (see docs/configuration.md), got ${JSON.stringify(raw)}`, {
      file: source,
    });
  }
  const problems: string[] = [];
  checkKeys(CONFIG_KEYS, raw as Record<string, unknown>, '', problems);
  if (problems.length > 0) {
    throw new PatchscanError('BAD_CONFIG', `${source}: ${problems.join('; ')}`, { file: source, problems });
  }
  const r = raw as Partial<SiteConfig>;
  return {
    ...DEFAULT_CONFIG,
    ...r,
    ...(r.listen !== undefined ? { listen: r.listen.trim() } : {}),
    sync: { ...DEFAULT_CONFIG.sync, ...r.sync },
    queue: { ...DEFAULT_CONFIG.queue, ...r.queue },
    limits: { ...DEFAULT_CONFIG.limits, ...r.limits },
  };
}

/** The site's configuration: defaults where the file is absent or silent; BAD_CONFIG naming every bad key. */
export function readConfig(dir: string): SiteConfig {
  const path = configPath(dir);
  if (!existsSync(path)) return DEFAULT_CONFIG;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new PatchscanError('BAD_CONFIG', `${path}: not valid JSON: ${(e as Error).message}`, { file: path });
  }
  return validateConfig(raw, path);
}

export function writeConfig(dir: string, config: SiteConfig): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(configPath(dir), `${JSON.stringify(config, null, 2)}\n`);
}
