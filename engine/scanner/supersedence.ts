/**
 * Whether an update is superseded on one machine (docs/semantics.md, "Supersedence"). Three values, because a
 * superseding update whose own state is Unknown may or may not replace it: reporting that as "not superseded" would
 * overstate what is missing, and as "superseded" would hide what may be.
 *
 * - `yes`: an update that supersedes it is Installed or Required on the machine, or its own IsSuperseded rule made
 *   it NotApplicable;
 * - `possibly`: not `yes`, and an update that supersedes it is Unknown on the machine;
 * - `no`: otherwise.
 *
 * The codes are what result sets pack and the site database stores (result_updates.superseded).
 */
export type Supersedence = 'no' | 'yes' | 'possibly';

export const SUP_NO = 0;
export const SUP_YES = 1;
export const SUP_POSSIBLY = 2;
export type SupersedenceCode = typeof SUP_NO | typeof SUP_YES | typeof SUP_POSSIBLY;

export const SUPERSEDENCE: readonly Supersedence[] = ['no', 'yes', 'possibly'];

/** The two flags rows carry (`superseded`, `possiblySuperseded`: never both true) from a code. */
export function supersedenceFlags(code: number): { readonly superseded: boolean; readonly possiblySuperseded: boolean } {
  return code === SUP_YES ? YES : code === SUP_POSSIBLY ? POSSIBLY : NO;
}
const YES = { superseded: true, possiblySuperseded: false } as const;
const POSSIBLY = { superseded: false, possiblySuperseded: true } as const;
const NO = { superseded: false, possiblySuperseded: false } as const;

/** The code of a row's two flags. */
export function supersedenceCode(f: { readonly superseded: boolean; readonly possiblySuperseded?: boolean }): SupersedenceCode {
  return f.superseded ? SUP_YES : f.possiblySuperseded ? SUP_POSSIBLY : SUP_NO;
}
