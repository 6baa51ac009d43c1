/**
 * Fuzzing every parser that reads outside data, from real inputs mutated by fast-check (seeded, bounded): the CAB
 * reader and extractor, fragments, index.xml, the streamed package.xml, inventories (JSON and msgpack), msgpack
 * stream framing, and upload bodies through the real server. Each input must end in a result or a PatchscanError
 * with a stable code of the parser's family — never another exception, a hang, or a file outside the target.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractCab } from '../../adapters/cab/extract.js';
import { serve, type RunningServer } from '../../adapters/server/server.js';
import { ensureObjects } from '../../adapters/site/objects.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import { parseIndexXml } from '../../adapters/xml/index-xml.js';
import { parseCoreFragment, parseExtendedFragment } from '../../adapters/xml/fragments.js';
import { PackageXmlParser } from '../../adapters/xml/package-xml.js';
import { PatchscanError } from '../../engine/errors.js';
import { msgpackFrames } from '../../engine/inventory/msgpack-frames.js';
import { decodeInventory } from '../../engine/inventory/validate.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';

const SEED = Number(process.env.PATCHSCAN_FUZZ_SEED ?? 20261124);

/** Byte mutations of a real input: flips, overwrites with boundary values, cuts, splices, duplications. */
const mutated = (base: Uint8Array): fc.Arbitrary<Uint8Array> =>
  fc
    .array(
      fc.oneof(
        fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
        fc.record({ kind: fc.constant('set' as const), at: fc.nat(), v: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x3c, 0x3e, 0x26, 0x22) }),
        fc.record({
          kind: fc.constant('set32' as const),
          at: fc.nat(),
          v: fc.constantFrom(0, 0xffffffff, 0x7fffffff, 0x80000000, 1 << 20),
        }),
        fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
        fc.record({ kind: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
      ),
      { minLength: 1, maxLength: 6 },
    )
    .map((ops) => {
      let b = Buffer.from(base);
      for (const op of ops) {
        if (b.length === 0) break;
        const at = op.at % b.length;
        if (op.kind === 'flip') b[at] ^= 1 << op.bit;
        else if (op.kind === 'set') b[at] = op.v;
        else if (op.kind === 'set32' && at + 4 <= b.length) b.writeUInt32LE(op.v >>> 0, at);
        else if (op.kind === 'cut') b = b.subarray(0, at);
        else if (op.kind === 'dup') b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + op.len), b.subarray(at)]);
      }
      return Uint8Array.from(b);
    });

const text = (s: string): fc.Arbitrary<string> => mutated(Buffer.from(s)).map((b) => Buffer.from(b).toString('utf8'));

/** Runs `f`; passes on a result or on a PatchscanError whose code matches; anything else fails the property. */
function endsWell(codes: RegExp, f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!PatchscanError.is(e)) throw new Error(`not a PatchscanError: ${(e as Error).stack ?? String(e)}`);
    expect(e.code).toMatch(codes);
  }
}

describe('fuzz: CAB reader and extractor on mutated real cabinets', () => {
  const dir = tempDir();
  const cabs = ['mszip.cab', 'lzx-21.cab', 'lzx-15.cab', 'none.cab', 'normal_2files_1folder.cab', 'normal_2files_2folders.cab'].map((f) =>
    readFileSync(join(FIXTURES, 'cab', f)),
  );
  it('extracts or refuses with CAB_*; nothing is written outside the target, even in a failure', () => {
    const jail = join(dir, 'jail');
    mkdirSync(jail);
    let k = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: cabs.length - 1 }).chain((i) => mutated(cabs[i])),
        (bytes) => {
          const file = join(dir, `m${k}.cab`);
          const target = join(jail, `t${k++}`);
          writeFileSync(file, bytes);
          endsWell(/^CAB_/, () => extractCab(file, target, { limits: { maxFolderBytes: 4 * 1024 * 1024 } }));
          rmSync(file);
          // Only the target itself (or nothing, after an all-or-nothing failure) may appear in the jail.
          expect(readdirSync(jail).filter((n) => n !== `t${k - 1}`)).toEqual([]);
          rmSync(target, { recursive: true, force: true });
        },
      ),
      { numRuns: 300, seed: SEED },
    );
  });
});

describe('fuzz: XML from the catalog', () => {
  const frag = readFileSync(
    join(FIXTURES, 'fragments', 'wsus-m0-native__flow__000001__853953d3-98c9-4e6d-9479-84baaa84f28c.core.xml'),
    'utf8',
  );
  const ext = readFileSync(join(FIXTURES, 'fragments', 'wsus-m0-cbs__cbs-rollupfix-extended.xml'), 'utf8');
  const index =
    '<?xml version="1.0" encoding="utf-8"?><index><cablist><cab name="package2.cab" ' +
    'range="100"/><cab name="package3.cab" range="20000"/></cablist></index>';
  const pkg =
    `<?xml version="1.0" encoding="utf-8"?><OfflineSyncPackage ` +
    `xmlns="http://schemas.microsoft.com/msus/2004/02/OfflineSync" PackageId="p" ` +
    `CreationDate="2024-01-01T00:00:00Z"><Updates><Update ` +
    `UpdateId="00000000-0000-0000-0000-000000000001" RevisionId="100" ` +
    `RevisionNumber="1" DefaultLanguage="en" IsLeaf="true" ` +
    `CreationDate="2024-01-01T00:00:00Z"><Categories><Category Type="Product" ` +
    `Id="00000000-0000-0000-0000-000000000002"/></Categories><Prerequisites><UpdateId ` +
    `Id="00000000-0000-0000-0000-000000000003"/></Prerequisites></Update></Updates><FileLocations/></OfflineSyncPackage>`;
  const xmlCodes = /^(XML_MALFORMED|CATALOG_BAD_FORMAT)$/;

  it('core and extended fragments: parsed or refused with XML_MALFORMED / CATALOG_BAD_FORMAT', () => {
    fc.assert(
      fc.property(text(frag), (x) => endsWell(xmlCodes, () => parseCoreFragment(x, 'c/1'))),
      { numRuns: 300, seed: SEED },
    );
    fc.assert(
      fc.property(text(ext), (x) => endsWell(xmlCodes, () => parseExtendedFragment(x, 'x/1'))),
      { numRuns: 200, seed: SEED },
    );
  });
  it('index.xml: parsed or refused', () => {
    fc.assert(
      fc.property(text(index), (x) => endsWell(xmlCodes, () => parseIndexXml(x, 'index.xml'))),
      { numRuns: 300, seed: SEED },
    );
  });
  it('package.xml, streamed in odd chunks: parsed or refused', () => {
    fc.assert(
      fc.property(mutated(Buffer.from(pkg)), fc.integer({ min: 1, max: 64 }), (bytes, chunk) =>
        endsWell(xmlCodes, () => {
          const p = new PackageXmlParser('package.xml', { onUpdate: () => undefined });
          for (let i = 0; i < bytes.length; i += chunk) p.write(bytes.subarray(i, i + chunk));
          p.end();
        }),
      ),
      { numRuns: 300, seed: SEED },
    );
  });
});

describe('fuzz: inventories and msgpack streams', () => {
  const inv = readFileSync(join(FIXTURES, 'inventories', 'win10-22h2-x64.json'));
  const packed = new Packr({ useRecords: false }).pack(JSON.parse(inv.toString('utf8')));
  it('JSON and msgpack inventories: decoded or refused with INVENTORY_INVALID', () => {
    fc.assert(
      fc.property(mutated(inv), (b) => endsWell(/^INVENTORY_INVALID$/, () => decodeInventory(b, 'pc.json', 'json'))),
      { numRuns: 400, seed: SEED },
    );
    fc.assert(
      fc.property(mutated(packed), (b) => endsWell(/^INVENTORY_INVALID$/, () => decodeInventory(b, 'pc.msgpack', 'msgpack'))),
      { numRuns: 400, seed: SEED },
    );
  });
  it('a msgpack stream always splits into frames (the last one marked broken when it stops making sense)', async () => {
    const stream = Buffer.concat([packed, packed, packed]);
    await fc.assert(
      fc.asyncProperty(mutated(stream), fc.integer({ min: 1, max: 4096 }), async (b, chunk) => {
        const chunks: Buffer[] = [];
        for (let i = 0; i < b.length; i += chunk) chunks.push(Buffer.from(b.subarray(i, i + chunk)));
        let total = 0;
        let broken = 0;
        for await (const f of msgpackFrames(Readable.from(chunks), 1 << 20)) {
          total += f.bytes.length;
          if (f.broken) broken++;
          endsWell(/^INVENTORY_INVALID$/, () => decodeInventory(f.bytes, `#${f.n}`, 'msgpack'));
        }
        expect(broken).toBeLessThanOrEqual(1);
        expect(total).toBeLessThanOrEqual(b.length);
      }),
      { numRuns: 200, seed: SEED },
    );
  });
});

describe('fuzz: upload bodies through the real server', () => {
  const dir = tempDir();
  let site: Site;
  let server: RunningServer;
  let token: string;
  const inv = JSON.parse(readFileSync(join(FIXTURES, 'inventories', 'win10-22h2-x64.json'), 'utf8')) as { computer: { name: string } };
  beforeAll(async () => {
    writeConfig(dir, {
      ...DEFAULT_CONFIG,
      listen: '127.0.0.1:0',
      limits: { ...DEFAULT_CONFIG.limits, uploadsPerMinute: 100_000, maxUploadBytes: 64 * 1024 },
    });
    site = await Site.open(dir);
    await ensureObjects(site.store, { testComputer: 'T', syncHost: 'S' });
    token = await site.store.enroll(inv.computer.name);
    server = await serve(site, { scheduledSync: false, scanQueue: false });
  });
  afterAll(async () => {
    await server.close();
    await site.close();
  });
  it('every mutated body gets 202, 400, 403, 413 or 415 — never a 5xx — and the server keeps answering', async () => {
    const body = Buffer.from(JSON.stringify(inv));
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(mutated(body), fc.constantFrom('application/json', 'application/msgpack'), async (b, type) => {
        const r = await fetch(`${server.url}/v1/inventory`, {
          method: 'POST',
          body: b,
          headers: { authorization: `Bearer ${token}`, 'content-type': type },
        });
        await r.arrayBuffer();
        seen.add(r.status);
        expect([202, 400, 403, 413, 415]).toContain(r.status);
      }),
      { numRuns: 150, seed: SEED },
    );
    expect(seen.has(400)).toBe(true);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('64-bit msgpack integers: a small one is taken (202), one no number holds is refused naming its field (400), never 500', async () => {
    const post = async (build: bigint): Promise<{ status: number; body: { error?: { code: string; message: string } } }> => {
      // msgpackr writes a BigInt as a 64-bit integer (0xd3), whatever its size: as some encoders write every long.
      const body = new Packr({ useRecords: false }).pack({ ...inv, os: { ...(inv as unknown as { os: object }).os, build } });
      expect(body.includes(0xd3)).toBe(true);
      const r = await fetch(`${server.url}/v1/inventory`, {
        method: 'POST',
        body,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/msgpack' },
      });
      return { status: r.status, body: (await r.json()) as { error?: { code: string; message: string } } };
    };
    expect((await post(19045n)).status).toBe(202);
    const big = await post(2n ** 60n);
    expect(big.status).toBe(400);
    expect(big.body.error).toEqual({
      code: 'INVENTORY_INVALID',
      message: 'upload: os.build: must be an integer from 0 to 4294967295, got 1152921504606846976',
    });
  });
});
