/**
 * patchscan.json is checked when it is read: every bad key is named with what it accepts, unknown keys are refused
 * with the nearest known one suggested, and a command on a site with a bad file stops before doing anything.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_KEYS, DEFAULT_CONFIG, parseListen, validateConfig } from '../../adapters/site/config.js';
import { PatchscanError } from '../../engine/errors.js';

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', 'dist', 'adapters', 'cli', 'bin.js');
const dir = mkdtempSync(join(tmpdir(), 'patchscan-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problem(raw: unknown): string {
  try {
    validateConfig(raw, 'patchscan.json');
  } catch (e) {
    expect(PatchscanError.is(e, 'BAD_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

describe('validateConfig', () => {
  it('fills every default for an empty file, and keeps what the file says', () => {
    expect(validateConfig({})).toEqual(DEFAULT_CONFIG);
    const c = validateConfig({ listen: ' 0.0.0.0:9000 ', sync: { retries: 0 }, limits: { maxConnections: 5 } });
    expect(c.listen).toBe('0.0.0.0:9000');
    expect(c.sync).toEqual({ ...DEFAULT_CONFIG.sync, retries: 0 });
    expect(c.limits.maxConnections).toBe(5);
    expect(c.limits.uploadsPerMinute).toBe(DEFAULT_CONFIG.limits.uploadsPerMinute);
  });

  it.each([
    // [file content, words the message must hold]
    [{ listen: '127.0.0.1' }, ['listen must be "host:port"', '"127.0.0.1"']],
    [{ listen: '127.0.0.1:70000' }, ['listen must be "host:port"', 'from 0 to 65535']],
    [{ listen: ':8530' }, ['listen must be']],
    [{ listen: 8530 }, ['listen must be']],
    [{ database: '' }, ['database must be a non-empty string']],
    [{ database: 5 }, ['database must be a non-empty string', 'got 5']],
    [{ sync: { everyHours: 0 } }, ['sync.everyHours must be a whole number from 1 to 8784', 'got 0']],
    [{ sync: { timeoutMs: '60s' } }, ['sync.timeoutMs must be a whole number 1 or more', '"60s"']],
    [{ sync: { retries: -1 } }, ['sync.retries must be a whole number from 0 to 100']],
    [{ queue: { leaseSeconds: 1.5 } }, ['queue.leaseSeconds must be a whole number']],
    [{ limits: { maxUploadBytes: null } }, ['limits.maxUploadBytes must be a whole number']],
    [{ limits: { maxConnections: 0 } }, ['limits.maxConnections must be a whole number 1 or more']],
    [{ limits: 5 }, ['limits must be an object with keys maxUploadBytes']],
    [{ tls: { cert: '/c.pem' } }, ['tls.key is required when tls is given']],
    [{ limts: {} }, ['limts is not a configuration key', 'did you mean limits?']],
    [{ limits: { maxUploadByte: 1 } }, ['limits.maxUploadByte is not a configuration key', 'did you mean limits.maxUploadBytes?']],
    [{ sync: { sauce: 'x' } }, ['sync.sauce is not a configuration key', 'known: source, everyHours']],
  ])('refuses %j, naming the key and what it accepts', (raw, words) => {
    const message = problem(raw);
    for (const w of words) expect(message).toContain(w);
  });

  it('names every problem at once', () => {
    const message = problem({ listen: 'x', limits: { uploadsPerMinute: 0 }, colour: 'blue' });
    expect(message).toContain('listen must be');
    expect(message).toContain('limits.uploadsPerMinute must be');
    expect(message).toContain('colour is not a configuration key');
  });

  it('refuses a file that is not an object', () => {
    for (const raw of [null, [], 'x', 3]) expect(problem(raw)).toContain('must hold a JSON object');
  });

  it('knows every key of the defaults (a key added without a check would be refused on read)', () => {
    for (const [k, v] of Object.entries(DEFAULT_CONFIG)) {
      expect(CONFIG_KEYS, k).toHaveProperty(k);
      if (typeof v === 'object') for (const sub of Object.keys(v)) expect(CONFIG_KEYS, `${k}.${sub}`).toHaveProperty([k, 'keys', sub]);
    }
    expect(validateConfig(JSON.parse(JSON.stringify(DEFAULT_CONFIG)))).toEqual(DEFAULT_CONFIG);
  });

  it.each([
    ['127.0.0.1:8530', { host: '127.0.0.1', port: 8530 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    ['localhost:65535', { host: 'localhost', port: 65535 }],
    ['127.0.0.1:65536', undefined],
    ['127.0.0.1:', undefined],
    ['[]:80', undefined],
  ])('parseListen(%s)', (listen, expected) => {
    expect(parseListen(listen)).toEqual(expected);
  });
});

describe('a site command on a bad patchscan.json', () => {
  it('stops with exit 2, the file and the key named, no stack trace, nothing started', async () => {
    const site = join(dir, 'site');
    await run(process.execPath, [BIN, 'init', '--data', site]);
    writeFileSync(join(site, 'patchscan.json'), JSON.stringify({ listen: '127.0.0.1:8530', limits: { uploadsPerMinte: 5 } }));
    for (const args of [
      ['serve', '--data', site],
      ['report', 'collections', '--data', site],
    ]) {
      const r = await run(process.execPath, [BIN, ...args]).then(
        () => undefined,
        (e: { code: number; stderr: string }) => e,
      );
      expect(r, args.join(' ')).toBeDefined();
      expect(r!.code).toBe(2);
      expect(r!.stderr).toContain('BAD_CONFIG');
      expect(r!.stderr).toContain('patchscan.json');
      expect(r!.stderr).toContain('did you mean limits.uploadsPerMinute?');
      expect(r!.stderr).not.toMatch(/\n\s+at /);
    }
  }, 60_000);
});
