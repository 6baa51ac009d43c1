/**
 * Option parsers every command shares (commander's argParser). A value that does not fit is a usage error:
 * `patchscan: BAD_ARGUMENT: --days "abc": give a whole number of days, 0 or more`, exit status 2 — the message names
 * the option, the value given and what is accepted. Defaults are given as parsed values (commander does not parse
 * them).
 */
import { PatchscanError } from '../../../engine/errors.js';
import { acceptedChoices, matchChoice } from '../../text/choice.js';
import { parseListen } from '../../site/config.js';

const bad = (flag: string, raw: string, accepted: string): PatchscanError =>
  new PatchscanError('BAD_ARGUMENT', `${flag} ${JSON.stringify(raw)}: ${accepted}`, { option: flag, value: raw });

export interface WholeNumberSpec {
  readonly min: number;
  readonly max?: number;
  /** What is counted, for the message: "days" → "give a whole number of days, 0 or more". */
  readonly unit?: string;
}

/** A whole number written in decimal digits (no sign, no exponent, no fraction), from `min` to `max`. */
export function wholeNumber(flag: string, spec: WholeNumberSpec): (raw: string) => number {
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  const what = `a whole number${spec.unit ? ` of ${spec.unit}` : ''}`;
  const range = spec.max !== undefined ? `from ${spec.min} to ${spec.max}` : spec.min <= 1 ? `${spec.min} or more` : `at least ${spec.min}`;
  const accepted = `give ${what}, ${range}`;
  return (raw: string): number => {
    const v = raw.trim();
    if (!/^\d+$/.test(v)) throw bad(flag, raw, accepted);
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < spec.min || n > max) throw bad(flag, raw, accepted);
    return n;
  };
}

/** 1, 2, 3, … */
export const positiveInt = (flag: string, unit?: string, max?: number): ((raw: string) => number) =>
  wholeNumber(flag, { min: 1, ...(unit ? { unit } : {}), ...(max !== undefined ? { max } : {}) });

/** 0, 1, 2, … */
export const nonNegativeInt = (flag: string, unit?: string, max?: number): ((raw: string) => number) =>
  wholeNumber(flag, { min: 0, ...(unit ? { unit } : {}), ...(max !== undefined ? { max } : {}) });

/**
 * One of a fixed set of names, in any case (`required` → `Required`); the parsed value is the name as listed.
 * An unknown name lists them all.
 */
export function choice<T extends string>(flag: string, names: readonly T[]): (raw: string) => T {
  return (raw: string): T => {
    const hit = matchChoice(names, raw);
    if (hit === undefined) throw bad(flag, raw, acceptedChoices(names));
    return hit;
  };
}

/** host:port, the port from 0 (any free port) to 65535; e.g. 127.0.0.1:8530, [::1]:8530, 0.0.0.0:0. */
export function listenAddress(flag: string): (raw: string) => string {
  return (raw: string): string => {
    if (!parseListen(raw.trim())) throw bad(flag, raw, 'give host:port with a port from 0 to 65535, e.g. 127.0.0.1:8530');
    return raw.trim();
  };
}

export { nearest } from '../../text/nearest-name.js';
