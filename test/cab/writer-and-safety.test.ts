import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractCab } from '../../adapters/cab/extract.js';
import { CabReader } from '../../adapters/cab/reader.js';
import { CabWriter } from '../../adapters/cab/writer.js';
import { PatchscanError } from '../../engine/errors.js';
import { tempDir } from '../helpers/tmp.js';

/** Compressible but not trivial bytes: XML-ish text with a seeded PRNG. */
function sampleBytes(size: number, seed: number): Buffer {
  const words = ['<UpdateIdentity ', 'UpdateID="', 'RevisionNumber="200" />', '<b.RegDword ', 'Key="HKEY_LOCAL_MACHINE" ', '</And>', '\n'];
  let x = seed >>> 0;
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const w = x % 5 === 0 ? x.toString(16) : words[x % words.length];
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

describe('CAB writer', () => {
  it.each(['mszip', 'none'] as const)('writes %s cabinets that cabextract verifies byte for byte', (compression) => {
    const dir = tempDir();
    const cab = join(dir, `w-${compression}.cab`);
    const entries = [
      ['index.xml', sampleBytes(220, 1)],
      ['c/123456', sampleBytes(70_000, 2)], // spans three 32 KiB blocks
      ['l/en/123456', sampleBytes(0, 3)],
      ['x/123456', sampleBytes(40_000, 4)],
    ] as const;
    const w = new CabWriter(cab, { compression });
    for (const [n, d] of entries) w.add(n, d);
    w.finish();
    const out = execFileSync('cabextract', ['-t', cab], { encoding: 'utf8' });
    expect(out).toContain('All done, no errors.');
    for (const [n, d] of entries) expect(out).toMatch(new RegExp(`${n.replaceAll('/', '\\/')}\\s+OK\\s+${md5(d)}`));
    // And our reader reads it back identically.
    const r = CabReader.open(cab);
    for (const f of r.files()) {
      const got = Buffer.concat([...f.chunks()].map((c) => Buffer.from(c)));
      expect(md5(got)).toBe(md5(entries.find(([n]) => n === f.name)![1]));
    }
    r.close();
  });

  it('reads multi-block MSZIP cabinets made by gcab (history shared across blocks)', () => {
    const dir = tempDir();
    const src = join(dir, 'src');
    mkdirSync(src);
    const big = sampleBytes(300_000, 9);
    writeFileSync(join(src, 'package.xml'), big);
    writeFileSync(join(src, 'small.txt'), 'hello');
    execFileSync('gcab', ['-c', '-z', '--nopath', join(dir, 'g.cab'), join(src, 'package.xml'), join(src, 'small.txt')]);
    const files = extractCab(join(dir, 'g.cab'), join(dir, 'out'));
    expect(files.map((f) => f.name).sort()).toEqual(['package.xml', 'small.txt']);
    expect(md5(readFileSync(join(dir, 'out', 'package.xml')))).toBe(md5(big));
  });
});

describe('extraction safety', () => {
  it.each([
    ['../evil.txt', /climbs out/],
    ['a/../../evil.txt', /climbs out/],
    ['/etc/evil.txt', /absolute/],
    ['\\evil.txt', /absolute/],
    ['C:\\evil.txt', /drive letter/],
    ['ok/..\\..\\evil.txt', /climbs out/],
    ['evil\u0001.txt', /control characters/],
  ])('refuses entry name %j and writes nothing', (name, why) => {
    const dir = tempDir();
    const cab = join(dir, 'evil.cab');
    const w = new CabWriter(cab);
    w.add('fine.txt', Buffer.from('fine'));
    w.add(name, Buffer.from('pwned'));
    w.finish();
    const target = join(dir, 'deep', 'target');
    let err: unknown;
    try {
      extractCab(cab, target);
    } catch (e) {
      err = e;
    }
    expect(PatchscanError.is(err, 'CAB_UNSAFE_PATH')).toBe(true);
    expect((err as Error).message).toMatch(why);
    expect(readdirSync(target)).toEqual([]); // not even fine.txt: all or nothing
    expect(existsSync(join(dir, 'deep', 'evil.txt'))).toBe(false);
    expect(existsSync(join(dir, 'evil.txt'))).toBe(false);
  });

  /** Extracts `cab` into `target` and returns the error it threw (undefined: none). */
  const extractError = (cab: string, target: string): unknown => {
    try {
      extractCab(cab, target);
    } catch (e) {
      return e;
    }
    return undefined;
  };
  const cabOf = (dir: string, entries: [string, string][]): string => {
    const cab = join(dir, 'x.cab');
    const w = new CabWriter(cab);
    for (const [n, d] of entries) w.add(n, Buffer.from(d));
    w.finish();
    return cab;
  };

  it('never writes through a symbolic link already in the target, and writes nothing then', () => {
    const dir = tempDir();
    const outside = join(dir, 'outside');
    const target = join(dir, 'target');
    mkdirSync(outside);
    mkdirSync(target);
    symlinkSync(outside, join(target, 'link'));
    const err = extractError(
      cabOf(dir, [
        ['fine.txt', 'fine'],
        ['link/pwned.txt', 'pwned'],
      ]),
      target,
    );
    expect(PatchscanError.is(err, 'CAB_UNSAFE_PATH')).toBe(true);
    expect((err as Error).message).toMatch(/through the symbolic link/);
    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(target).sort()).toEqual(['link']); // not even fine.txt
  });

  it('refuses to replace a folder or a link of the target, before replacing anything', () => {
    const dir = tempDir();
    const target = join(dir, 'target');
    mkdirSync(join(target, 'b'), { recursive: true });
    writeFileSync(join(target, 'b', 'inner'), 'keep');
    writeFileSync(join(target, 'a.txt'), 'OLD-A');
    symlinkSync(join(dir, 'nowhere'), join(target, 'c'));
    const cab = cabOf(dir, [
      ['a.txt', 'NEW-A'],
      ['b', 'NEW-B'],
    ]);
    const err = extractError(cab, target);
    expect(PatchscanError.is(err, 'CAB_UNSAFE_PATH')).toBe(true);
    expect((err as Error).message).toMatch(/would replace the folder/);
    expect(readFileSync(join(target, 'a.txt'), 'utf8')).toBe('OLD-A'); // checked before the first move
    expect(readFileSync(join(target, 'b', 'inner'), 'utf8')).toBe('keep');
    const link = extractError(cabOf(dir, [['c', 'NEW-C']]), target);
    expect((link as Error).message).toMatch(/would replace the symbolic link/);
    // A regular file is replaced, as cabextract does.
    expect(extractError(cabOf(dir, [['a.txt', 'NEW-A']]), target)).toBeUndefined();
    expect(readFileSync(join(target, 'a.txt'), 'utf8')).toBe('NEW-A');
  });

  it.each([
    [['a', 'a/b'], /lies below "a", which the cabinet holds as a file/],
    [['a/b', 'a'], /is also the folder of another entry/],
  ])('refuses a cabinet naming one entry both a file and a folder (%j) as unsafe, not as a file-system fault', (names, why) => {
    const dir = tempDir();
    const err = extractError(
      cabOf(
        dir,
        names.map((n) => [n, n]),
      ),
      join(dir, 'out'),
    );
    expect(PatchscanError.is(err, 'CAB_UNSAFE_PATH')).toBe(true);
    expect((err as Error).message).toMatch(why);
    expect(readdirSync(join(dir, 'out'))).toEqual([]);
  });

  it('refuses an entry name flagged UTF-8 that is not (two such names could become one)', () => {
    const dir = tempDir();
    const cab = cabOf(dir, [['\u00ff\u00fe.txt', 'x']]);
    const bytes = readFileSync(cab);
    const at = bytes.indexOf(Buffer.from('\u00ff\u00fe.txt', 'utf8'));
    expect(at).toBeGreaterThan(0);
    bytes.set([0xff, 0xfe, 0x41, 0x41], at); // the same length, no longer UTF-8
    writeFileSync(cab, bytes);
    const err = extractError(cab, join(dir, 'out'));
    expect(PatchscanError.is(err, 'CAB_BAD_STRUCTURE')).toBe(true);
    expect((err as Error).message).toMatch(/says its name is UTF-8, and it is not/);
  });

  it('stops a decompression bomb at the configured folder cap', () => {
    const dir = tempDir();
    const cab = join(dir, 'bomb.cab');
    const w = new CabWriter(cab);
    w.add('zeros.bin', Buffer.alloc(4 * 1024 * 1024)); // 4 MiB of zeros compress to a few KiB
    w.finish();
    let err: unknown;
    try {
      extractCab(cab, join(dir, 'out'), { limits: { maxFolderBytes: 1024 * 1024 } });
    } catch (e) {
      err = e;
    }
    expect(PatchscanError.is(err, 'CAB_LIMIT')).toBe(true);
    expect((err as Error).message).toMatch(/maxFolderBytes/);
    expect(readdirSync(join(dir, 'out'))).toEqual([]);
  });

  it('names the file and offset of a truncated cabinet', () => {
    const dir = tempDir();
    const cab = join(dir, 'full.cab');
    const w = new CabWriter(cab);
    w.add('a.xml', sampleBytes(100_000, 5));
    w.finish();
    const whole = readFileSync(cab);
    const cut = join(dir, 'cut.cab');
    writeFileSync(cut, whole.subarray(0, whole.length - 5000));
    let err: unknown;
    try {
      extractCab(cut, join(dir, 'out'));
    } catch (e) {
      err = e;
    }
    expect(PatchscanError.is(err, 'CAB_TRUNCATED')).toBe(true);
    expect((err as Error).message).toMatch(/cut\.cab: cabinet ends inside data block \d+ of folder 0/);
    expect((err as PatchscanError).details.offset).toBeTypeOf('number');
  });
});

describe('reader API misuse', () => {
  it('reading a file after the loop moved on is a clear error, not wrong data', () => {
    const dir = tempDir();
    const cab = join(dir, 'two.cab');
    const w = new CabWriter(cab);
    w.add('a.txt', Buffer.from('aaa'));
    w.add('b.txt', Buffer.from('bbb'));
    w.finish();
    const r = CabReader.open(cab);
    const files = [...r.files()];
    expect(() => files[0].chunks()).toThrowError(/a\.txt must be read inside the files\(\) loop/);
    r.close();
  });
});
