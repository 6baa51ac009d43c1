/**
 * Ill-formed UTF-8 is refused wherever an inventory comes in (issue 11, item 12): msgpack strings (keys too) as well
 * as JSON, over HTTP (400 naming the byte offset, nothing stored), in `patchscan scan` input files (exit 2 and an
 * error naming the file and offset, as for any invalid inventory; in a batch, an error row naming file:line or file#n
 * and the offset), and on the fleet fast path that answers a known profile without decoding (a twin with a bad left-out
 * string is an error row).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCatalog } from '../../adapters/catalog/import.js';
import { serve, type RunningServer } from '../../adapters/server/server.js';
import { upload } from '../../adapters/server/upload-client.js';
import { ensureObjects } from '../../adapters/site/objects.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { PatchscanError } from '../../engine/errors.js';
import { invalidUtf8At, msgpackUtf8AndExt } from '../../engine/inventory/utf8.js';
import { decodeInventory } from '../../engine/inventory/validate.js';
import { createScannerPool } from '../../engine/pool/scanner-pool.js';
import { MsgpackProfile } from '../../engine/fleet/msgpack-profile.js';
import { runCli, type CliRun } from '../helpers/serve.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { ILL_FORMED_UTF8, isUtf8, UTF8_PIECES } from '../helpers/utf8-samples.js';

const packr = new Packr({ useRecords: false });
const INVENTORY = JSON.parse(readFileSync(join(FIXTURES, 'inventories', 'win10-22h2-x64.json'), 'utf8')) as Record<string, any>;
const NONE = { fileSize: false, fileDates: false, fileLanguage: false, processorDetail: false };

/** Ill-formed sequences, and how far into them the first bad byte is. */
const BAD: readonly (readonly [string, number[], number])[] = [
  ...ILL_FORMED_UTF8,
  ['a lead byte without its continuation (C3 41: msgpackr alone would decode it as another letter)', [0xc3, 0x41], 0],
];

/**
 * `doc` packed as msgpack with the placeholder `@…@` (as many @ as `bytes`) replaced by `bytes`: the string keeps its
 * byte length, so the document stays well-formed msgpack. Returns the bytes and where the placeholder was.
 */
function packedWith(doc: unknown, bytes: readonly number[]): { body: Buffer; at: number } {
  const packed = Buffer.from(packr.pack(doc));
  const at = packed.indexOf('@'.repeat(bytes.length));
  if (at < 0) throw new Error('no placeholder');
  const body = Buffer.from(packed);
  body.set(bytes, at);
  return { body, at };
}

const marked = (n: number, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...INVENTORY,
  computer: { name: 'UTF-PC', domain: `CORP-${'@'.repeat(n)}-X` },
  ...over,
});

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (PatchscanError.is(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'accepted';
};

describe('decodeInventory refuses ill-formed UTF-8 in msgpack strings, naming the byte offset', () => {
  it.each(BAD)('%s, in a value', (_what, bytes, k) => {
    const { body, at } = packedWith(marked(bytes.length), bytes);
    expect(refusal(() => decodeInventory(body, 'pc.msgpack', 'msgpack'))).toBe(
      `INVENTORY_INVALID: pc.msgpack: a string is not valid UTF-8 at byte ${at + k} (strings in a msgpack inventory must be UTF-8)`,
    );
  });

  it.each([
    ['in a map key', (n: number) => ({ ...INVENTORY, computer: { name: 'UTF-PC' }, deviceAttributes: { [`K${'@'.repeat(n)}`]: 'v' } })],
    [
      'deep in a file path (str8)',
      (n: number) => ({
        ...INVENTORY,
        computer: { name: 'UTF-PC' },
        files: [{ path: `C:\\${'a'.repeat(40)}\\${'@'.repeat(n)}.dll`, exists: true }],
      }),
    ],
    [
      "in a long string (str16, past the native check's threshold)",
      (n: number) => ({ ...INVENTORY, computer: { name: 'UTF-PC', domain: `${'é'.repeat(200)}${'@'.repeat(n)}` } }),
    ],
  ])('%s', (_what, doc) => {
    const { body, at } = packedWith(doc(2), [0xc0, 0xaf]);
    expect(refusal(() => decodeInventory(body, 'pc.msgpack'))).toContain(`not valid UTF-8 at byte ${at} `);
  });

  it('JSON as before: the offset in the text', () => {
    const text = Buffer.from(JSON.stringify(marked(1)));
    const at = text.indexOf('@');
    text[at] = 0xff;
    expect(refusal(() => decodeInventory(text, 'pc.json'))).toBe(
      `INVENTORY_INVALID: pc.json: not valid UTF-8 at byte ${at} (an inventory in JSON must be UTF-8)`,
    );
  });

  it('well-formed UTF-8 (é, 𝔘, ＰＣ, a real U+FFFD) is decoded as sent', () => {
    const domain = 'é𝔘ＰＣ\uFFFD';
    expect(decodeInventory(packr.pack({ ...INVENTORY, computer: { name: 'UTF-PC', domain } }), 'm').computer.domain).toBe(domain);
    expect(decodeInventory(Buffer.from(JSON.stringify({ ...INVENTORY, computer: { name: 'UTF-PC', domain } })), 'j').computer.domain).toBe(
      domain,
    );
  });

  it('agrees with a strict decoder on 3,000 generated strings placed in the document', () => {
    const pieces = [...UTF8_PIECES, [0xc3]];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 12 }), (parts) => {
        const bytes = parts.flat();
        const { body, at } = packedWith(marked(bytes.length), bytes);
        const ok = isUtf8(Uint8Array.from(bytes));
        const walk = msgpackUtf8AndExt(body);
        const found = walk.badUtf8;
        // The walk went through the whole document (it stops at a finding: a valid string must not stop it first).
        expect(walk.ext).toBe(-1);
        if (ok) expect(walk.end).toBe(body.length);
        expect(found === -1).toBe(ok);
        if (!ok) expect(found).toBe(at + invalidUtf8At(Uint8Array.from(bytes)));
      }),
      { numRuns: 3000, seed: 11 },
    );
  });
});

describe('the fleet fast path never answers a known profile whose left-out strings are ill-formed', () => {
  it.each([
    ['the computer name', (n: number) => ({ name: `PC-${'@'.repeat(n)}` })],
    ['the computer id', (n: number) => ({ name: 'PC', id: `ID-${'@'.repeat(n)}` })],
    ['the domain', (n: number) => ({ name: 'PC', domain: `D-${'@'.repeat(n)}` })],
  ])('the quick check refuses ill-formed UTF-8 in %s (and decodeInventory does too)', (_w, computer) => {
    const p = new MsgpackProfile();
    for (const [, bytes] of BAD) {
      const { body } = packedWith({ ...INVENTORY, computer: computer(bytes.length) }, bytes);
      expect(p.read(body, NONE) && p.leftOutOk).toBe(false);
      expect(refusal(() => decodeInventory(body, 'm'))).toMatch(/not valid UTF-8 at byte \d+/);
    }
  });

  it("the quick check refuses it after the date part of a file's created time", () => {
    const p = new MsgpackProfile();
    const doc = { ...INVENTORY, computer: { name: 'PC' }, files: [{ path: 'C:\\a.dll', exists: true, created: '2020-01-01T@@' }] };
    const { body } = packedWith(doc, [0xc0, 0xaf]);
    expect(p.read(body, NONE)).toBe(true);
    expect(p.leftOutOk).toBe(false);
    expect(refusal(() => decodeInventory(body, 'm'))).toMatch(/not valid UTF-8/);
    const fine = packr.pack({ ...doc, files: [{ ...doc.files[0], created: '2020-01-01T00:00:00Z' }] });
    expect(p.read(fine, NONE) && p.leftOutOk).toBe(true);
  });

  it('in the pool: the twin of a scanned machine with an ill-formed name or domain is an error row', async () => {
    const catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
    const good = new FleetModel(catalog).machine(5, 0);
    const item = (computer: Record<string, string>, bytes: number[] = []): { bytes: Uint8Array; source: string } => ({
      bytes: bytes.length ? packedWith({ ...good, computer }, bytes).body : packr.pack({ ...good, computer }),
      source: computer.name,
    });
    const inputs = [
      item({ name: 'GOOD' }),
      item({ name: 'TWIN' }),
      item({ name: 'BAD-@@' }, [0xc0, 0xaf]),
      item({ name: 'DOM', domain: '@' }, [0xff]),
    ];
    for (const threads of [0, 2]) {
      const s = await createScannerPool({ catalog, threads, batchSize: 2 });
      const results = [];
      for await (const r of s.scanMany(inputs)) results.push(r);
      await s.close();
      expect(results.map((r) => r.ok)).toEqual([true, true, false, false]);
      expect(results.slice(2).map((r) => (r.ok ? '' : r.error.message))).toEqual([
        expect.stringMatching(/a string is not valid UTF-8 at byte \d+/),
        expect.stringMatching(/a string is not valid UTF-8 at byte \d+/),
      ]);
    }
  });
});

describe('patchscan scan: ill-formed UTF-8 in input files', () => {
  const dir = tempDir();
  const catalog = join(dir, 'c.pscat');
  beforeAll(() => {
    importCatalog(join(FIXTURES, 'wsusscn2', 'wsusscn2.cab'), { out: catalog });
  });
  const run = (args: string[]): CliRun => runCli(['scan', '-c', catalog, ...args]);
  const jsonWithBad = (name: string): { text: Buffer; at: number } => {
    const text = Buffer.from(JSON.stringify({ ...INVENTORY, computer: { name, domain: 'X-@@' } }));
    const at = text.indexOf('@@');
    text.set([0xc0, 0xaf], at);
    return { text, at };
  };

  it('one JSON or msgpack file: exit 2 (bad input, as any invalid inventory), naming the file and the byte offset; no result', () => {
    const { text, at } = jsonWithBad('PC-J');
    writeFileSync(join(dir, 'bad.json'), text);
    const j = run([join(dir, 'bad.json')]);
    expect(j.code).toBe(2);
    expect(j.err).toBe(
      `patchscan: INVENTORY_INVALID: ${join(dir, 'bad.json')}: not valid UTF-8 at byte ${at} (an inventory in JSON must be UTF-8)\n`,
    );
    expect(j.out).toBe('');
    const m = packedWith(marked(2), [0xed, 0xa0]);
    writeFileSync(join(dir, 'bad.msgpack'), m.body);
    const r = run([join(dir, 'bad.msgpack')]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `patchscan: INVENTORY_INVALID: ${join(dir, 'bad.msgpack')}: a string is not ` +
        `valid UTF-8 at byte ${m.at} (strings in a msgpack inventory must be UTF-8)\n`,
    );
  });

  it('a JSON Lines batch: the bad line is an error row naming file:line and the offset in the line; the others are scanned', () => {
    const good = (name: string): string => JSON.stringify({ ...INVENTORY, computer: { name } });
    const { text, at } = jsonWithBad('PC-BAD');
    const file = join(dir, 'fleet.jsonl');
    // CRLF line ends and a blank line, as careless files have them.
    writeFileSync(file, Buffer.concat([Buffer.from(`${good('PC-1')}\r\n\r\n`), text, Buffer.from(`\r\n${good('PC-3')}\n`)]));
    const out = join(dir, 'rows.jsonl');
    const r = run(['-i', file, '-o', out, '--threads', '0', '--all']);
    expect(r.code, r.err).toBe(0);
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    const errors = rows.filter((x) => x.error);
    expect(errors).toEqual([
      {
        computer: null,
        source: `${file}:3`,
        error: { code: 'INVENTORY_INVALID', message: `${file}:3: not valid UTF-8 at byte ${at} (an inventory in JSON must be UTF-8)` },
      },
    ]);
    expect(new Set(rows.filter((x) => !x.error).map((x) => x.computer))).toEqual(new Set(['PC-1', 'PC-3']));
  });

  it('a msgpack stream batch: the bad machine is an error row naming file#n and the offset', () => {
    const file = join(dir, 'fleet.msgpack');
    const bad = packedWith(marked(1), [0xff]);
    writeFileSync(
      file,
      Buffer.concat([
        packr.pack({ ...INVENTORY, computer: { name: 'PC-1' } }),
        bad.body,
        packr.pack({ ...INVENTORY, computer: { name: 'PC-3' } }),
      ]),
    );
    const out = join(dir, 'rows2.jsonl');
    const r = run(['-i', file, '-o', out, '--threads', '0', '--all']);
    expect(r.code, r.err).toBe(0);
    const errors = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>)
      .filter((x) => x.error);
    expect(errors.map((e) => e.error.message)).toEqual([
      `${file}#2: a string is not valid UTF-8 at byte ${bad.at} (strings in a msgpack inventory must be UTF-8)`,
    ]);
  });
});

describe('uploads over HTTP (a real server on loopback)', () => {
  const dir = tempDir();
  let site: Site;
  let server: RunningServer;
  let token: string;
  beforeAll(async () => {
    writeConfig(dir, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0', limits: { ...DEFAULT_CONFIG.limits, uploadsPerMinute: 100_000 } });
    site = await Site.open(dir);
    await ensureObjects(site.store, { testComputer: 'PILOT-PC', syncHost: 'SYNC' });
    token = await site.store.enroll('UTF-PC');
    server = await serve(site, { scheduledSync: false, scanQueue: false });
  });
  afterAll(async () => {
    await server.close();
    await site.close();
  });

  it.each(BAD)('msgpack with %s: 400 naming the byte offset (plain and gzip), nothing stored', async (_what, bytes, k) => {
    const { body, at } = packedWith(marked(bytes.length), bytes);
    for (const gzip of [false, true]) {
      const r = await upload(server.url, token, body, { gzip });
      expect(r.status).toBe(400);
      expect(r.body.error).toEqual({
        code: 'INVENTORY_INVALID',
        message: `upload: a string is not valid UTF-8 at byte ${at + k} (strings in a msgpack inventory must be UTF-8)`,
      });
    }
    expect(await site.store.inventoryCount((await site.store.client('UTF-PC'))!.id)).toBe(0);
  });

  it('JSON is refused as before, and well-formed msgpack with é, 𝔘 and ＰＣ is taken', async () => {
    const text = Buffer.from(JSON.stringify(marked(1)));
    const at = text.indexOf('@');
    text[at] = 0xe9;
    const j = await upload(server.url, token, text, { gzip: true });
    expect([j.status, j.body.error]).toEqual([
      400,
      { code: 'INVENTORY_INVALID', message: `upload: not valid UTF-8 at byte ${at} (an inventory in JSON must be UTF-8)` },
    ]);
    const ok = await upload(server.url, token, packr.pack({ ...INVENTORY, computer: { name: 'UTF-PC', domain: 'é𝔘ＰＣ' } }), {
      gzip: true,
    });
    expect(ok.status).toBe(202);
    expect(await site.store.inventoryCount((await site.store.client('UTF-PC'))!.id)).toBe(1);
  });
});
