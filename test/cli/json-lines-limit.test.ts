/**
 * A JSON Lines fleet is read a line at a time, and a line is held only up to one byte past the largest inventory
 * (64 MiB): enough for the decoder to refuse it by its size, so a line of gigabytes (a damaged file, a stream with no
 * newline) costs no more memory than a too-large inventory does. The lines after it are read as usual.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inventorySource } from '../../adapters/inventory/sources.js';
import { decodeInventory, DEFAULT_INVENTORY_LIMITS } from '../../engine/inventory/validate.js';
import { tempDir } from '../helpers/tmp.js';

const INVENTORY = JSON.stringify({ schema: 'patchscan-inventory/1', computer: { name: 'PC-2' }, collectedAt: '2026-01-01T00:00:00Z' });

describe('a JSON Lines line larger than any inventory', () => {
  it('is held only to the limit and refused by its size; the next lines are read', { timeout: 60_000 }, async () => {
    const max = DEFAULT_INVENTORY_LIMITS.maxBytes;
    const file = join(tempDir(), 'long-line.jsonl');
    // Line 1: "{" then 100 MiB of spaces, written in 1 MiB pieces (the reader's chunk: the line spans ~100 of them).
    const fd = openSync(file, 'w');
    writeSync(fd, '{');
    const mib = Buffer.alloc(1 << 20, 0x20);
    for (let i = 0; i < 100; i++) writeSync(fd, mib);
    writeSync(fd, `}\n${INVENTORY}\r\n`);
    closeSync(fd);

    const items: { bytes: Uint8Array; source: string }[] = [];
    for await (const item of inventorySource(file)) items.push(item);
    expect(items.map((i) => i.source)).toEqual([`${file}:1`, `${file}:2`]);
    expect(items[0].bytes.length).toBe(max + 1);
    expect(() => decodeInventory(items[0].bytes, items[0].source)).toThrow(
      expect.objectContaining({ code: 'INVENTORY_INVALID', message: expect.stringContaining(`more than the ${max} bytes allowed`) }),
    );
    expect(decodeInventory(items[1].bytes, items[1].source).computer.name).toBe('PC-2');
  });

  it('a line of exactly the limit, CRLF-ended, is kept whole (the limit is not one byte short)', { timeout: 60_000 }, async () => {
    const max = DEFAULT_INVENTORY_LIMITS.maxBytes;
    const file = join(tempDir(), 'at-limit.jsonl');
    const fd = openSync(file, 'w');
    const body = Buffer.alloc(max, 0x20);
    Buffer.from(INVENTORY).copy(body);
    writeSync(fd, body);
    writeSync(fd, '\r\n');
    closeSync(fd);
    const items: { bytes: Uint8Array }[] = [];
    for await (const item of inventorySource(file)) items.push(item);
    expect(items).toHaveLength(1);
    expect(items[0].bytes.length).toBe(max);
    expect(decodeInventory(items[0].bytes).computer.name).toBe('PC-2');
  });
});
