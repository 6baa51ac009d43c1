/**
 * Computer names compare by one key, computed once, everywhere (enrollment, uploads, collection members, reports):
 * Unicode NFKC, then full case folding approximated by lower → upper → lower (so "ß", "ẞ" and "SS" meet at "ss",
 * and full-width "ＰＣ" meets "pc"). JavaScript's toLowerCase alone and SQLite's ASCII-only NOCASE disagree on
 * "É"/"é" — that disagreement let one client's token read another's compliance (issue 11, item 11).
 */
export function computerKey(name: string): string {
  return name.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');
}
