/**
 * The left-out fields of a profile (identity, collection time, unread file and processor details) and how tests of
 * the quick profile readers (engine/fleet/json-profile.ts, msgpack-profile.ts) mutate them: a base document, values
 * of every shape, and the places to put them.
 */
import fc from 'fast-check';
import type { RelevantDetails } from '../../engine/catalog/relevant-details.js';

export const NONE: RelevantDetails = { fileSize: false, fileDates: false, fileLanguage: false, processorDetail: false };

export const base = {
  schema: 'patchscan-inventory/1',
  computer: { name: 'PC-1', id: 'x-1' },
  collectedAt: '2026-01-01T00:00:00Z',
  os: { major: 10, minor: 0, build: 19045, productType: 1 },
  processor: { architecture: 9, level: 6, count: 8 },
  files: [
    { path: 'C:\\Windows\\System32\\kernel32.dll', exists: true, version: '10.0.19041.1', size: 10, created: '2020-01-01T00:00:00Z' },
  ],
};

/**
 * Values of every shape, including the awkward ones (wide and negative integers, floats, nil, nesting); `extra`
 * adds format-specific ones (JSON's quotes, tabs, NUL).
 */
export const oddValues = (extra: readonly unknown[] = []): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      0xffff,
      0x10000,
      2 ** 32,
      2 ** 53,
      -(2 ** 40),
      '',
      'x',
      '2026-01-01T00:00:00Z',
      '2026-01-01T00:00',
      '2026-13-01Tfoo',
      'é',
      'x'.repeat(300),
      [],
      ['a'],
      {},
      { name: 'n' },
      ...extra,
    ),
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.array(fc.string(), { maxLength: 2 }),
  );

/** Sets a left-out field (or adds an unexpected key beside one) to `v`. */
export function mutate(doc: typeof base, where: number, v: unknown): Record<string, unknown> {
  const d = structuredClone(doc) as unknown as Record<string, any>;
  switch (where) {
    case 0:
      d.computer.name = v;
      break;
    case 1:
      d.computer.id = v;
      break;
    case 2:
      d.computer.domain = v;
      break;
    case 3:
      d.computer.extra = v;
      break;
    case 4:
      d.computer = v;
      break;
    case 5:
      d.collectedAt = v;
      break;
    case 6:
      d.files[0].size = v;
      break;
    case 7:
      d.files[0].created = v;
      break;
    case 8:
      d.files[0].modified = v;
      break;
    case 9:
      d.files[0].language = v;
      break;
    case 10:
      d.processor.level = v;
      break;
    case 11:
      d.processor.revision = v;
      break;
    case 12:
      d.processor.count = v;
      break;
    case 13:
      delete d.computer;
      break;
    default:
      delete d.collectedAt;
  }
  return d;
}
