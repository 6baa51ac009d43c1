/**
 * Three-valued (Kleene) logic. A rule that cannot be decided is Unknown, never a guess:
 * And is False if any operand is False, else Unknown if any is Unknown, else True; Or is the dual;
 * Not(Unknown) is Unknown (reference §3.10).
 */
export const F = 0;
export const T = 1;
export const U = 2;
export type Tri = typeof F | typeof T | typeof U;

export const triName = (t: Tri): 'False' | 'True' | 'Unknown' => (t === T ? 'True' : t === F ? 'False' : 'Unknown');
export const triOf = (b: boolean): Tri => (b ? T : F);
export const not = (t: Tri): Tri => (t === U ? U : t === T ? F : T);
export const and2 = (a: Tri, b: Tri): Tri => (a === F || b === F ? F : a === U || b === U ? U : T);
export const or2 = (a: Tri, b: Tri): Tri => (a === T || b === T ? T : a === U || b === U ? U : F);
