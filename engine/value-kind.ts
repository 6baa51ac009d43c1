/**
 * What a value is, for an error that says what was given instead of what was expected: `null`, `undefined`, `a
 * string`, `an array`, `a Uint16Array`, `an object`. Never the value itself: an inventory's text, or a caller's data,
 * in an error message ends up in logs. One wording for every such error (the inventory validator's, decodeInventory's
 * argument check, the scanner pool's inputs), where each had its own ("got string", "got Array", "is a string").
 */
export function valueKind(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v !== 'object') return withArticle(typeof v);
  // A class's instance by its class (a Uint16Array, an ArrayBuffer, a Map); a plain or prototype-less object as such.
  const name = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? withArticle(name) : 'an object';
}

/** By sound, as far as these nouns go: an Inventory, an ArrayBuffer, a Uint16Array (a "you"). */
const withArticle = (noun: string): string => `${/^(?:[aeio]|u(?!int))/i.test(noun) ? 'an' : 'a'} ${noun}`;
