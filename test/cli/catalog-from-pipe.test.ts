/**
 * A catalog read from something that is not a regular file — a pipe (`-c /dev/stdin`, a FIFO), a device — has no size
 * to split into pieces (engine/catalog/file.ts readCatalogFileInPieces): it is read in order, as many bytes as its
 * header announces and no more, then verified. And the piece reader's own edges: its argument, a path naming some
 * other large file, a read that fails.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, ftruncateSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { fileDigestOf, readCatalogFile, readCatalogFileInPieces } from '../../engine/catalog/file.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { runAsEmbedder } from '../helpers/embedder.js';
import { BIN } from '../helpers/serve.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';

describe('a catalog read from a pipe, and the piece reader at its edges', () => {
  const dir = tempDir();
  const catalogFile = bundledCatalogFile();
  const bytes = readFileSync(catalogFile);

  /** A FIFO that a writer in this process fills with `content` once it is opened for reading. */
  function fifoWith(name: string, content: Buffer): string {
    const path = join(dir, name);
    execFileSync('mkfifo', [path]);
    const w = createWriteStream(path);
    w.on('error', () => undefined); // the reader may stop early (a refused header): the writer then gets EPIPE
    w.end(content);
    return path;
  }

  it('`patchscan scan -c /dev/stdin` reads the catalog piped in and scans as with the file', () => {
    const inventory = join(FIXTURES, 'inventories', 'win10-22h2-x64.json');
    const fromFile = spawnSync(process.execPath, [BIN, 'scan', '-c', catalogFile, inventory, '--format', 'json'], { encoding: 'utf8' });
    // Through a shell's pipe, as a user would (`cat catalog.pscat | patchscan scan -c /dev/stdin …`): spawnSync's own
    // `input` is a socket, which /dev/stdin cannot be opened on.
    const fromPipe = spawnSync(
      'sh',
      ['-c', 'cat "$1" | "$2" "$3" scan -c /dev/stdin "$4" --format json', 'sh', catalogFile, process.execPath, BIN, inventory],
      {
        encoding: 'utf8',
      },
    );
    expect(fromFile.status, fromFile.stderr).toBe(0);
    expect(fromPipe.status, fromPipe.stderr).toBe(0);
    expect(JSON.parse(fromPipe.stdout)).toEqual(JSON.parse(fromFile.stdout));
    expect((JSON.parse(fromFile.stdout) as unknown[]).length).toBeGreaterThan(0);
  });

  it('embedders have it: `readCatalogFileInPieces` from the package, over shared memory, the same catalog', () => {
    const out = runAsEmbedder(
      'pieces.mjs',
      `import { Catalog, readCatalogFileInPieces, readCatalogFile } from 'patchscan';
const a = new Catalog(await readCatalogFileInPieces(${JSON.stringify(catalogFile)}));
const b = new Catalog(readCatalogFile(${JSON.stringify(catalogFile)}));
console.log(a.size, a.size === b.size && a.updateId(a.size - 1) === b.updateId(b.size - 1), a.data.updates.updateId.buffer instanceof SharedArrayBuffer);
`,
    );
    expect(out).toMatch(/^[1-9]\d* true true\n$/);
  });

  it('a FIFO: the whole catalog, verified (its digest is the header’s); padded, truncated or damaged, refused', async () => {
    const read = await readCatalogFileInPieces(fifoWith('whole.fifo', bytes));
    expect(fileDigestOf(read)).toBe(bytes.subarray(24, 56).toString('hex'));
    expect(new Catalog(read).size).toBe(new Catalog(readCatalogFile(catalogFile)).size);

    const padded = fifoWith('padded.fifo', Buffer.concat([bytes, Buffer.of(0)]));
    await expect(readCatalogFileInPieces(padded)).rejects.toThrowError(
      `${padded}: file is more than ${bytes.length} bytes but its header announces ${bytes.length} (truncated or padded)`,
    );
    const truncated = fifoWith('truncated.fifo', bytes.subarray(0, bytes.length - 1));
    await expect(readCatalogFileInPieces(truncated)).rejects.toThrowError(
      `${truncated}: file is ${bytes.length - 1} bytes but its header announces ${bytes.length} (truncated or padded)`,
    );
    const damaged = Buffer.from(bytes);
    damaged[damaged.length >> 1] ^= 0xff;
    const bad = fifoWith('damaged.fifo', damaged);
    await expect(readCatalogFileInPieces(bad)).rejects.toThrowError(`${bad}: checksum mismatch: the file is damaged`);
    const short = fifoWith('short.fifo', bytes.subarray(0, 20));
    await expect(readCatalogFileInPieces(short)).rejects.toThrowError(`${short}: not a patchscan compiled catalog (bad magic)`);
  });

  it('readCatalogFile reads a FIFO whole too, with or without shared memory', () => {
    for (const shared of [false, true]) {
      const path = join(dir, `sync-${shared}.fifo`);
      execFileSync('mkfifo', [path]);
      // A synchronous read blocks this process's loop, so the writer is another process.
      const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', catalogFile, path], { stdio: 'ignore' });
      const data = readCatalogFile(path, { shared });
      writer.unref();
      expect(fileDigestOf(data), `shared ${shared}`).toBe(bytes.subarray(24, 56).toString('hex'));
      expect(data.updates.updateId.buffer instanceof SharedArrayBuffer, `shared ${shared}`).toBe(shared);
    }
    // Padded, through the synchronous reader: one byte after the catalog.
    const padded = join(dir, 'sync-padded.fifo');
    execFileSync('mkfifo', [padded]);
    const writer = spawn('sh', ['-c', '{ cat "$1"; printf x; } > "$2"', 'sh', catalogFile, padded], { stdio: 'ignore' });
    expect(() => readCatalogFile(padded, { shared: true })).toThrowError(
      `${padded}: file is more than ${bytes.length} bytes but its header announces ${bytes.length} (truncated or padded)`,
    );
    writer.unref();
  });

  it('a device that never ends (/dev/zero) is refused at its header, not read', async () => {
    expect(() => readCatalogFile('/dev/zero', { shared: true })).toThrowError('/dev/zero: not a patchscan compiled catalog (bad magic)');
    await expect(readCatalogFileInPieces('/dev/zero')).rejects.toMatchObject({
      code: 'COMPILED_BAD_FILE',
      message: expect.stringContaining('/dev/zero: not a patchscan compiled catalog (bad magic)') as unknown,
    });
  });

  it('a header that announces more than a pipe may hold is refused before anything is allocated', async () => {
    const huge = Buffer.from(bytes.subarray(0, 56));
    huge.writeBigUInt64LE(2n ** 40n, 16);
    const path = fifoWith('huge.fifo', huge);
    await expect(readCatalogFileInPieces(path)).rejects.toThrowError(
      /its header announces \d+ bytes, more than a catalog read from a pipe may hold/,
    );
  });

  it('a header that announces 2 GiB or more (within what a pipe may hold) is read in reads Node takes: a coded error, not an abort', () => {
    // One read of that length once aborted the process (Node asserts a read's length fits 32 bits): exit 134, no code.
    const header = join(dir, 'two-gib-header.bin');
    const head = Buffer.from(bytes.subarray(0, 56));
    head.writeBigUInt64LE(2n ** 31n, 16);
    writeFileSync(header, head);
    const inventory = join(FIXTURES, 'inventories', 'win10-22h2-x64.json');
    const r = spawnSync('sh', ['-c', 'cat "$1" | "$2" "$3" scan -c /dev/stdin "$4"', 'sh', header, process.execPath, BIN, inventory], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe(
      `patchscan: COMPILED_BAD_FILE: /dev/stdin: file is 56 bytes but its header announces ${2 ** 31 + 56} (truncated or padded)\n`,
    );
    expect(r.status).toBe(2);
  });

  it('a path naming another large file fails at its header, before the rest is allocated or read', async () => {
    // 64 GiB, sparse: reading or allocating it would not end well; the header says what it is at once.
    const big = join(dir, 'big.bin');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 64 * 2 ** 30);
    closeSync(fd);
    await expect(readCatalogFileInPieces(big)).rejects.toThrowError(`${big}: not a patchscan compiled catalog (bad magic)`);
    expect(() => readCatalogFile(big, { shared: true })).toThrowError(`${big}: not a patchscan compiled catalog (bad magic)`);
    // A catalog's header on it: the length does not fit the size.
    const withHeader = join(dir, 'big-with-header.bin');
    writeFileSync(withHeader, bytes.subarray(0, 56));
    const fd2 = openSync(withHeader, 'r+');
    ftruncateSync(fd2, 64 * 2 ** 30);
    closeSync(fd2);
    await expect(readCatalogFileInPieces(withHeader)).rejects.toThrowError(
      `${withHeader}: file is ${64 * 2 ** 30} bytes but its header announces ${bytes.length} (truncated or padded)`,
    );
    expect(() => readCatalogFile(withHeader, { shared: true })).toThrowError(
      `${withHeader}: file is ${64 * 2 ** 30} bytes but its header announces ${bytes.length} (truncated or padded)`,
    );
  });

  it('pieceBytes must be a positive whole number', async () => {
    for (const pieceBytes of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      await expect(readCatalogFileInPieces(catalogFile, { pieceBytes }), String(pieceBytes)).rejects.toMatchObject({
        code: 'BAD_ARGUMENT',
      });
    }
    // Larger than the file is one piece: fine.
    expect(fileDigestOf(await readCatalogFileInPieces(catalogFile, { pieceBytes: 2 ** 40 }))).toBe(bytes.subarray(24, 56).toString('hex'));
  });

  it('a read that fails stops the others: no more pieces are taken, and the error is an IO error naming the file', async () => {
    // The one fault injected in this file: an I/O error cannot be had for real here (no faulty device).
    const probe = await open(catalogFile, 'r');
    const proto = Object.getPrototypeOf(probe) as { read: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const read = proto.read;
    let calls = 0;
    proto.read = function (this: unknown, ...a: unknown[]) {
      calls++;
      if (calls === 3) return Promise.reject(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
      return read.apply(this, a);
    };
    try {
      await expect(readCatalogFileInPieces(catalogFile, { pieceBytes: 1000 })).rejects.toMatchObject({
        code: 'IO',
        message: expect.stringContaining(catalogFile) as unknown,
      });
    } finally {
      proto.read = read;
    }
    // The header, then four readers' first pieces (one failing), then at most one more piece each already asked for.
    expect(calls).toBeLessThanOrEqual(1 + 4 + 4);
    expect(Math.ceil(bytes.length / 1000)).toBeGreaterThan(50);
  });
});
