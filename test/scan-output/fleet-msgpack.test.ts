/**
 * The hand-written encoder of the msgpack fleet format must decode, with a standard msgpack decoder, to exactly what
 * a generic encoder would have written — across every header width (short and long strings, non-ASCII text, large
 * ids, sets of more than 65,535 rows), every supersedence (true, false, nil when possibly superseded) and with reasons.
 */
import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { FleetMsgpackWriter } from '../../adapters/scan-output/fleet-msgpack.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { outcomeIndex, outcomeState, outcomeSupersedence, packOutcome, ResultSet, STATES } from '../../engine/fleet/result-set.js';
import type { SupersedenceCode } from '../../engine/scanner/supersedence.js';
import { bundledCatalogFile } from '../helpers/bundled.js';

describe('msgpack fleet format writer', () => {
  const catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
  const decode = (b: Uint8Array): Record<string, unknown>[] =>
    new Unpackr({ useRecords: false }).unpackMultiple(b) as Record<string, unknown>[];
  const expected = (set: ResultSet): unknown => ({
    resultSet: set.id,
    updates: Array.from(set.outcomes, (w, k) => [
      catalog.updateId(outcomeIndex(w)),
      outcomeState(w),
      [false, true, null][outcomeSupersedence(w)],
      ...(set.hasReasons ? [set.reason(k)] : []),
    ]),
  });

  it('decodes to the records a generic encoder writes, at every header width', () => {
    const outcomes = (n: number): Uint32Array =>
      Uint32Array.from({ length: n }, (_, k) => packOutcome(k % catalog.size, STATES[k % 4], (k % 3) as SupersedenceCode));
    const sets = [
      new ResultSet({ id: 1, shared: true, outcomes: outcomes(0) }),
      new ResultSet({ id: 127, shared: true, outcomes: outcomes(15) }),
      new ResultSet({
        id: 128,
        shared: false,
        outcomes: outcomes(16),
        reasons: Array.from({ length: 16 }, (_, k) => `reason ${'é'.repeat(k * 20)}`),
      }),
      new ResultSet({ id: 70_000, shared: true, outcomes: outcomes(70_000) }),
    ];
    const machines = [
      ['PC-1', 'fleet.msgpack#1', 1],
      ['Ünïcødé-ПК', 'x'.repeat(31), 127],
      ['y'.repeat(32), 'z'.repeat(255), 128],
      ['n'.repeat(256), 's'.repeat(70_000), 70_000],
    ] as const;
    const w = new FleetMsgpackWriter(catalog);
    const want: unknown[] = [];
    for (let k = 0; k < sets.length; k++) {
      w.resultSet(sets[k]);
      want.push(expected(sets[k]));
      const [computer, source, id] = machines[k];
      w.machine(computer, source, id);
      want.push({ computer, source, resultSet: id });
    }
    w.value({ computer: null, source: 'bad#3', error: { code: 'INVENTORY_INVALID', message: 'm' } });
    want.push({ computer: null, source: 'bad#3', error: { code: 'INVENTORY_INVALID', message: 'm' } });
    const size = w.size;
    const bytes = w.take();
    expect(bytes.length).toBe(size);
    expect(w.size).toBe(0);
    expect(decode(bytes)).toEqual(want);
  });

  it('chunks taken one after another concatenate into one valid stream', () => {
    const w = new FleetMsgpackWriter(catalog);
    const chunks: Uint8Array[] = [];
    for (let k = 0; k < 5000; k++) {
      w.machine(`PC-${k}`, `f#${k}`, k);
      if (w.size > 4096) chunks.push(w.take());
    }
    chunks.push(w.take());
    const records = decode(Buffer.concat(chunks));
    expect(records).toHaveLength(5000);
    expect(records[4999]).toEqual({ computer: 'PC-4999', source: 'f#4999', resultSet: 4999 });
  });

  it('reuses the memory of chunks given back, and only of its own chunks', () => {
    // Sets of 3,000 rows (~130 KB each) so that chunks are taken at the batch loop's size and grow past CHUNK at times.
    const set = (id: number): ResultSet =>
      new ResultSet({
        id,
        shared: false,
        outcomes: Uint32Array.from({ length: 3000 }, (_, k) => packOutcome((k * 7 + id) % catalog.size, STATES[(k + id) % 4], 0)),
      });
    const recycled = new FleetMsgpackWriter(catalog);
    const fresh = new FleetMsgpackWriter(catalog);
    const written: Buffer[] = [];
    const want: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let reused = 0;
    for (let id = 1; id <= 40; id++) {
      for (const w of [recycled, fresh]) {
        w.resultSet(set(id));
        w.machine(`PC-${id}`, `f#${id}`, id);
      }
      if (recycled.size >= 1 << 18) {
        const chunk = recycled.take();
        if (buffers.has(chunk.buffer)) reused++;
        buffers.add(chunk.buffer);
        written.push(Buffer.from(chunk)); // what the file holds once the write is done
        recycled.recycle(chunk);
        want.push(Buffer.from(fresh.take()));
      }
    }
    written.push(Buffer.from(recycled.take()));
    want.push(Buffer.from(fresh.take()));
    expect(reused).toBeGreaterThan(3);
    expect(Buffer.concat(written).equals(Buffer.concat(want))).toBe(true);
    expect(decode(Buffer.concat(written)).filter((r) => 'computer' in r)).toHaveLength(40);
  });

  describe('what it does not take back (found by a red-team pass)', () => {
    const fill = (w: FleetMsgpackWriter, id: number): void => {
      w.resultSet(
        new ResultSet({
          id,
          shared: false,
          outcomes: Uint32Array.from({ length: 3000 }, (_, k) => packOutcome((k * 7 + id) % catalog.size, STATES[(k + id) % 4], 0)),
        }),
      );
      w.machine(`PC-${id}`, `f#${id}`, id);
    };

    it('a chunk given back twice, a take() between: the later chunk of its buffer is not written over', () => {
      const w = new FleetMsgpackWriter(catalog);
      fill(w, 1);
      const x = w.take();
      w.recycle(x);
      fill(w, 2);
      w.take();
      fill(w, 3);
      const z = w.take(); // out, in x's buffer
      const zCopy = Buffer.from(z);
      expect(z.buffer).toBe(x.buffer);
      w.recycle(x); // again: must not put z's buffer back while z is out
      fill(w, 4);
      w.take();
      fill(w, 5);
      expect(z.equals(zCopy)).toBe(true);
    });

    it('a buffer that is not one of its chunks is never handed out', () => {
      const w = new FleetMsgpackWriter(catalog);
      const foreign = Buffer.alloc(1 << 20);
      w.recycle(foreign);
      w.recycle(foreign.subarray(0, 1 << 19));
      for (let id = 1; id <= 4; id++) {
        fill(w, id);
        expect(w.take().buffer).not.toBe(foreign.buffer);
      }
    });

    it('a buffer grown for one huge set is let go once written, not kept for the rest of the batch', () => {
      const w = new FleetMsgpackWriter(catalog);
      const rows = 60_000;
      const outcomes = Uint32Array.from({ length: rows }, (_, k) => packOutcome(k % catalog.size, STATES[k % 4], 0));
      w.resultSet(new ResultSet({ id: 1, shared: true, outcomes, reasons: Array.from({ length: rows }, () => 'r'.repeat(100)) }));
      const big = w.take();
      expect(big.buffer.byteLength).toBeGreaterThan(4 << 20);
      w.recycle(big);
      for (let id = 2; id <= 4; id++) {
        fill(w, id);
        expect(w.take().buffer.byteLength).toBe(512 * 1024);
      }
    });
  });

  it.each([false, true])('refuses a set naming an update outside its catalog, writing nothing of it (reasons %s)', (withReasons) => {
    // A set scanned against another catalog: its rows would have no id to copy. Before the check, the fast path wrote a
    // 3-element row header followed by 2 elements, and the decoder took the next machine's record as the third.
    const w = new FleetMsgpackWriter(catalog);
    w.machine('PC-0', 'f#0', 0);
    const before = w.size;
    const outcomes = Uint32Array.of(packOutcome(0, 'Required', 0), packOutcome(catalog.size, 'Installed', 0));
    const set = new ResultSet({ id: 1, shared: false, outcomes, ...(withReasons ? { reasons: ['a', 'b'] } : {}) });
    expect(() => w.resultSet(set)).toThrow(
      expect.objectContaining({ code: 'INTERNAL', message: expect.stringMatching(/outside the catalog/) }),
    );
    expect(w.size).toBe(before);
    w.machine('PC-1', 'f#1', 1);
    expect(decode(w.take())).toEqual([
      { computer: 'PC-0', source: 'f#0', resultSet: 0 },
      { computer: 'PC-1', source: 'f#1', resultSet: 1 },
    ]);
  });
});

describe('msgpack fleet format writer, update ids of different widths', () => {
  it('copies each id from its own offset when the ids do not all encode to one width', async () => {
    const { loadedCatalogOf, updateRecord } = await import('../helpers/update-record.js');
    // Ids of 1 to 40 characters: fixstr and str8 headers, and no common width (the GUID shortcut must not apply).
    const ids = Array.from({ length: 40 }, (_, k) => `u${'x'.repeat(k)}`);
    const catalog = loadedCatalogOf(
      ids.map((updateId, k) => updateRecord({ updateId, revisionId: k + 1, rules: {} })),
      'widths',
    );
    const outcomes = Uint32Array.from({ length: catalog.size }, (_, i) => packOutcome(i, STATES[i % 4], (i % 3) as SupersedenceCode));
    const w = new FleetMsgpackWriter(catalog);
    w.resultSet(new ResultSet({ id: 9, shared: true, outcomes }));
    const [record] = new Unpackr({ useRecords: false }).unpackMultiple(w.take()) as { updates: unknown[][] }[];
    expect(record.updates.map((u) => u[0])).toEqual(Array.from(outcomes, (o) => catalog.updateId(outcomeIndex(o))));
    expect(new Set(record.updates.map((u) => (u[0] as string).length)).size).toBeGreaterThan(30);
  });
});
