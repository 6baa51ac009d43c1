/**
 * A member name given twice in one object is found in JSON and in msgpack, and nothing else is: random documents
 * (fast-check) have no repeat until one is put in, and then it is the one found, where it is. Then an inventory as a
 * user sends it: refused with the name and where, never read as whichever of the two came last.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { duplicateJsonMember, duplicateMsgpackKey } from '../../engine/inventory/duplicate-keys.js';
import { decodeInventory } from '../../engine/inventory/validate.js';
import { FIXTURES } from '../helpers/tmp.js';

const packr = new Packr({ useRecords: false });

/** JSON values with objects and arrays nested a few levels, names drawn from a small set (so siblings share names). */
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom('a', 'b', 'os', 'é', 'x"y', 'k\\'), fc.string()), tie('value'), { maxKeys: 20 }),
  ),
}));
const object = fc.dictionary(fc.oneof(fc.constantFrom('a', 'b', 'os'), fc.string()), value, { minKeys: 1, maxKeys: 80 });

describe('duplicate member names', () => {
  it('none in a document JSON.stringify or msgpack wrote (an object cannot hold a name twice)', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(duplicateJsonMember(JSON.stringify(v))).toBeUndefined();
        expect(duplicateJsonMember(JSON.stringify(v, null, 2))).toBeUndefined();
        expect(duplicateMsgpackKey(packr.pack(v))).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('a name repeated in any object is found: the repeated one, at the second', () => {
    fc.assert(
      fc.property(object, fc.nat(), fc.boolean(), (o, pick, nest) => {
        const names = Object.keys(o);
        const name = names[pick % names.length];
        // The object as text with the chosen member written again at its end (JSON.parse would keep this last one).
        const inner = `${JSON.stringify(o).slice(0, -1)},${JSON.stringify(name)}:0}`;
        const text = nest ? `{"outer":[1,{"x":${inner}}],"x":2}` : inner;
        expect(JSON.parse(text)).toBeDefined();
        const found = duplicateJsonMember(text);
        expect(found?.name).toBe(name);
        expect(text.slice(found!.at)).toBe(`${JSON.stringify(name)}:0}${nest ? '}],"x":2}' : ''}`);
        // msgpack: the map's count one more, the name and a value after its members (maps past 32 keys take a set).
        const packed = Buffer.from(packr.pack(o));
        const more = Buffer.concat([packed, packr.pack(name), packr.pack(0)]);
        if (packed[0] <= 0x8e) more[0] = packed[0] + 1;
        else if (packed[0] === 0x8f)
          return; // fixmap full: a map16 header would shift every offset
        else more.writeUInt16BE(packed.readUInt16BE(1) + 1, 1);
        expect(duplicateMsgpackKey(packed)).toBeUndefined();
        // Named as msgpackr names the property (its __proto__ becomes __proto_).
        expect(duplicateMsgpackKey(more)).toEqual({ name: name === '__proto__' ? '__proto_' : name, at: packed.length });
      }),
      { numRuns: 300 },
    );
  });

  it('large objects too: past 16 (JSON) and 32 (msgpack) names the check changes method, not answer', () => {
    for (const size of [17, 33, 100, 300])
      for (const repeat of [0, 15, 16, 31, 32, size - 1]) {
        if (repeat >= size) continue;
        const o = Object.fromEntries(Array.from({ length: size }, (_, i) => [`k${i}`, i]));
        const name = `k${repeat}`;
        const text = `${JSON.stringify(o).slice(0, -1)},${JSON.stringify(name)}:0}`;
        expect(duplicateJsonMember(JSON.stringify(o))).toBeUndefined();
        expect(duplicateJsonMember(text)?.name).toBe(name);
        const packed = Buffer.from(packr.pack(o));
        expect(packed[0]).toBe(0xde);
        const more = Buffer.concat([packed, packr.pack(name), packr.pack(0)]);
        more.writeUInt16BE(size + 1, 1);
        expect(duplicateMsgpackKey(packed)).toBeUndefined();
        expect(duplicateMsgpackKey(more), `${size} ${repeat}`).toEqual({ name, at: packed.length });
      }
  });

  it('compares names as JSON.parse decodes them: an escaped spelling of a name is the same name', () => {
    expect(duplicateJsonMember('{"os":1,"\\u006fs":2}')).toEqual({ name: 'os', at: 8 });
    expect(duplicateJsonMember('{"a\\"b":1,"a\\u0022b":2}')?.name).toBe('a"b');
    expect(duplicateJsonMember('{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}')).toBeUndefined();
    expect(duplicateJsonMember('{"a":"{\\"a\\":1,\\"a\\":2}"}')).toBeUndefined(); // braces and names inside a string value
    // A string that ends in an escaped backslash ends at the quote after it; an escaped quote does not end it.
    expect(duplicateJsonMember('{"a":"x\\\\","a":1}')).toEqual({ name: 'a', at: 11 });
    expect(duplicateJsonMember('{"a":"x\\",\\"a\\":","b":1}')).toBeUndefined();
    expect(duplicateJsonMember('{"\\\\":1,"\\u005c":2}')?.name).toBe('\\');
  });

  it('msgpack: the same key in another str format is the same key; maps in arrays in maps are each their own', () => {
    // fixmap of 2: fixstr "os" → 1, str8 "os" → 2.
    const twice = Uint8Array.from([0x82, 0xa2, 0x6f, 0x73, 0x01, 0xd9, 0x02, 0x6f, 0x73, 0x02]);
    expect(packr.unpack(twice)).toEqual({ os: 2 }); // what msgpackr alone makes of it
    expect(duplicateMsgpackKey(twice)).toEqual({ name: 'os', at: 5 });
    const nested = packr.pack({ a: [{ a: 1, b: { a: 2 } }, { a: 3 }], b: { a: { a: 4 } } });
    expect(duplicateMsgpackKey(nested)).toBeUndefined();
    // A repeat deep inside: map16 header so the count is two bytes.
    const deep = Uint8Array.from([0x81, 0xa1, 0x61, 0x91, 0xde, 0x00, 0x02, 0xa1, 0x62, 0xc0, 0xa1, 0x62, 0xc3]);
    expect(duplicateMsgpackKey(deep)).toEqual({ name: 'b', at: 10 });
  });

  it('msgpack: keys compare as the property names msgpackr makes of them (a number key and its text are one)', () => {
    const str = (t: string): number[] => [...packr.pack(t)];
    const map = (...pairs: number[][]): Uint8Array => Uint8Array.from([0x80 | (pairs.length / 2), ...pairs.flat()]);
    // {36: "C:\\Windows", "36": "D:\\Evil"}: msgpackr reads one property "36", the last.
    const numberAndText = map([0x24], str('C:\\Windows'), str('36'), str('D:\\Evil'));
    expect(packr.unpack(numberAndText)).toEqual({ 36: 'D:\\Evil' });
    expect(duplicateMsgpackKey(numberAndText)).toEqual({ name: '36', at: 13 });
    // The same number written two ways (fixint, uint8).
    expect(duplicateMsgpackKey(map([0x24], [0xc0], [0xcc, 0x24], [0xc3]))).toEqual({ name: '36', at: 3 });
    // msgpackr renames __proto__ to __proto_: both keys are one property.
    const proto = map(str('__proto_'), str('a'), str('__proto__'), str('b'));
    expect(packr.unpack(proto)).toEqual({ __proto_: 'b' });
    expect(duplicateMsgpackKey(proto)?.name).toBe('__proto_');
    expect(duplicateMsgpackKey(map([0x24], [0xc0], [0x25], [0xc0], str('x'), [0xc0]))).toBeUndefined();
    // Long keys (compared natively): equal ones are found, ones that differ in their last byte are not.
    const long = 'k'.repeat(200);
    expect(duplicateMsgpackKey(map(str(long), [1], str(long), [2]))?.name).toBe(long);
    expect(duplicateMsgpackKey(map(str(long), [1], str(`${long.slice(1)}j`), [2]))).toBeUndefined();
  });

  it('msgpack: an extension value is refused before decoding (msgpackr reads 0x72 as a record even with records off)', () => {
    const text = readFileSync(join(FIXTURES, 'inventories', 'win10-22h2-x64.json'), 'utf8');
    const inv = JSON.parse(text) as Record<string, unknown>;
    // "os" as a record: d4 72 40 defines record 0x40 with the fields that follow, then its values; "build" twice.
    const record = Buffer.concat([
      Buffer.from([0xd4, 0x72, 0x40]),
      packr.pack(['major', 'minor', 'build', 'productType', 'build']),
      packr.pack(10),
      packr.pack(0),
      packr.pack(19045),
      packr.pack(1),
      packr.pack(22000),
    ]);
    const others = Object.entries(inv).filter(([k]) => k !== 'os');
    const doc = Buffer.concat([
      Buffer.from([0xde, 0, others.length + 1]),
      ...others.flatMap(([k, v]) => [packr.pack(k), packr.pack(v)]),
      packr.pack('os'),
      record,
    ]);
    expect(() => decodeInventory(doc, 'rec.msgpack')).toThrowError(
      `rec.msgpack: a msgpack extension value (type 114) at byte ${doc.length - record.length}: an inventory is plain msgpack — maps, arrays, strings, numbers, booleans and nil`,
    );
    // A timestamp (ext -1) where a date string belongs.
    const stamp = Buffer.concat([Buffer.from([0x81]), packr.pack('collectedAt'), Buffer.from([0xd6, 0xff, 0, 0, 0, 1])]);
    expect(() => decodeInventory(stamp, 'ts.msgpack')).toThrowError(/extension value \(type -1\) at byte 13/);
  });

  it('msgpack that is not one whole value is refused before anything is read past it (msgpackr decodes 0xc1 as an object)', () => {
    const text = readFileSync(join(FIXTURES, 'inventories', 'win10-22h2-x64.json'), 'utf8');
    const inv = JSON.parse(text) as Record<string, unknown>;
    const entries = Object.entries(inv);
    // {…, csidl: 0xc1, …, systemMetrics: {a: 1, a: 2}}: before, the walks stopped at 0xc1 and saw nothing after it.
    const doc = Buffer.concat([
      Buffer.from([0xde, 0, entries.length + 1]),
      ...entries.flatMap(([k, v]) => (k === 'csidl' ? [packr.pack(k), Buffer.from([0xc1])] : [packr.pack(k), packr.pack(v)])),
      packr.pack('systemMetrics'),
      Buffer.from([0x82, 0xa1, 0x61, 0x01, 0xa1, 0x61, 0x02]),
    ]);
    expect(() => packr.unpack(doc)).not.toThrow(); // msgpackr alone takes it
    expect(() => decodeInventory(doc, 'c1.msgpack')).toThrowError(
      'c1.msgpack: not valid msgpack: a byte msgpack does not use (0xc1), or a header out of place',
    );
    const packed = Buffer.from(packr.pack(inv));
    expect(() => decodeInventory(Buffer.concat([packed, Buffer.from([0x01])]), 'tail.msgpack', 'msgpack')).toThrowError(
      'tail.msgpack: not valid msgpack: 1 byte(s) after the document',
    );
    // What msgpackr writes for an undefined member (fixext 1, type 0) is read as absent, as JSON.stringify leaves it out.
    const computer = { ...(inv.computer as object), domain: undefined };
    const withUndefined = packr.pack({ ...inv, computer });
    expect(Buffer.from(withUndefined).includes(Buffer.from([0xd4, 0, 0]))).toBe(true);
    expect(decodeInventory(withUndefined, 'u.msgpack').computer).toEqual(
      decodeInventory(Buffer.from(JSON.stringify({ ...inv, computer })), 'u.json').computer,
    );
  });

  it('an inventory with a member given twice is refused, naming it and where, in JSON and msgpack', () => {
    const text = readFileSync(join(FIXTURES, 'inventories', 'win10-22h2-x64.json'), 'utf8');
    const inv = JSON.parse(text) as Record<string, unknown>;
    expect(decodeInventory(Buffer.from(text), 'pc.json').computer).toEqual(inv.computer); // the fixture itself is fine
    // "os" again at the end: JSON.parse alone would read a Windows 7 machine.
    const twice = `${text.trimEnd().slice(0, -1)},\n"os": ${JSON.stringify({ ...(inv.os as object), build: 7601 })}\n}`;
    const lines = twice.split('\n');
    expect(() => decodeInventory(Buffer.from(twice), 'pc.json')).toThrowError(
      `pc.json: "os" is given twice in one object (line ${lines.length - 1}, column 1): a reader would keep one of the two; give it once`,
    );
    // A map nested in the document (the CSIDL folders) with a folder given twice: JSON.parse would keep D:\Apps.
    const csidl = text.replace('"csidl":{', '"csidl":{"38":"D:\\\\Apps",');
    expect(csidl).not.toBe(text);
    expect(() => decodeInventory(Buffer.from(csidl), 'pc.json')).toThrowError(
      /^pc\.json: "38" is given twice in one object \(line 1, column \d+\)/,
    );
    const packed = packr.pack(inv);
    expect(decodeInventory(packed, 'pc.msgpack').computer).toEqual(inv.computer);
    // The same map with its first key written again as the last (map header count + 1).
    const m = Buffer.from(packed);
    expect(m[0]).toBe(0xde); // map16: more than 15 members
    const firstKey = Object.keys(inv)[0];
    // The same value again: the decoded object is the fixture's, valid, and only the bytes say it was given twice.
    const again = Buffer.concat([m, packr.pack(firstKey), packr.pack(inv[firstKey])]);
    again.writeUInt16BE(m.readUInt16BE(1) + 1, 1);
    expect(() => decodeInventory(again, 'pc.msgpack')).toThrowError(
      `pc.msgpack: ${JSON.stringify(firstKey)} is given twice in one object (byte ${m.length}): a reader would keep one of the two; give it once`,
    );
  });
});
