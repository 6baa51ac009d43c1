/**
 * What a machine's fingerprint leaves out (fingerprint.ts), as the quick profile readers see it in the raw bytes
 * (json-profile.ts, msgpack-profile.ts): the identity (`computer`: name, id, domain), the collection time, and the
 * file and processor details no rule of the catalog reads (rules/reads.ts DETAIL_FIELDS). Both readers take the keys
 * and the kind of value each left-out detail must have from here, so they cannot disagree on what is left out.
 */
import type { RelevantDetails } from '../catalog/relevant-details.js';
import { DEFAULT_INVENTORY_LIMITS, isCalendarDateTime } from '../inventory/validate.js';
import { detailFieldsKept, FILE_DETAIL_KINDS } from '../rules/reads.js';

/** A key as the bytes both encodings store it as (every key here is ASCII). */
export const asciiKey = (k: string): Uint8Array => Uint8Array.from(k, (ch) => ch.charCodeAt(0));

export const COMPUTER = asciiKey('computer');
export const COLLECTED_AT = asciiKey('collectedAt');
export const FILES = asciiKey('files');
export const PROCESSOR = asciiKey('processor');
export const NAME = asciiKey('name');
export const ID = asciiKey('id');
export const DOMAIN = asciiKey('domain');

/** validate.ts's rule for collectedAt, its pattern and its calendar (ASCII only, so it is tested on the raw bytes). */
export const isCollectedAt = isCalendarDateTime;
export const MAX_STRING = DEFAULT_INVENTORY_LIMITS.maxString;

/**
 * A left-out detail, and what its value must look like for a quick reader to accept it without decoding: an integer
 * from 0 to `max`, or (`date`) a string starting with an ISO 8601 date, `2024-01-31T` (date-prefix.ts). Anything
 * else — validate.ts may allow more, such as a size above 2^32 — sends the machine down the slow path.
 */
export interface LeftOutDetail {
  readonly key: Uint8Array;
  readonly date: boolean;
  readonly max: number;
}

const integer = (k: string, max: number): LeftOutDetail => ({ key: asciiKey(k), date: false, max });
const date = (k: string): LeftOutDetail => ({ key: asciiKey(k), date: true, max: 0 });

const FILE_DETAILS: readonly LeftOutDetail[] = [
  integer('size', 0xffffffff),
  date('created'),
  date('modified'),
  integer('language', 0xffff),
];

/** A processor's details, left out (but for its architecture) when no rule reads them. */
export const PROCESSOR_DETAILS: readonly LeftOutDetail[] = [
  integer('level', 0xffff),
  integer('revision', 0xffff),
  integer('count', 0xffff),
];

const fileDetails = new Map<string, readonly LeftOutDetail[]>();

/** The file details no rule of a catalog with these relevant details reads (one list per combination, kept). */
export function fileDetailsLeftOut(d: RelevantDetails): readonly LeftOutDetail[] {
  const id = `${+d.fileSize}${+d.fileDates}${+d.fileLanguage}`;
  let out = fileDetails.get(id);
  if (!out) {
    const keep = detailFieldsKept(d, FILE_DETAIL_KINDS);
    out = FILE_DETAILS.filter((x) => !keep.has(String.fromCharCode(...x.key)));
    fileDetails.set(id, out);
  }
  return out;
}
