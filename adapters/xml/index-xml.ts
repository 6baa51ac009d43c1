/**
 * index.xml of wsusscn2.cab (reference §1.2): the list of inner cabinets. `package.cab` holds package.xml;
 * each `packageN.cab` with a `RANGESTART` holds the fragments of RevisionIds from its start up to the next one.
 */
import { PatchscanError } from '../../engine/errors.js';
import { child, childrenNamed, localName, parseXml } from './dom.js';

export interface CabIndex {
  /** The cabinet holding package.xml (normally `package.cab`). */
  readonly packageCab: string;
  /** Range cabinets sorted by RANGESTART. */
  readonly ranges: readonly { readonly name: string; readonly rangeStart: number }[];
}

export function parseIndexXml(xml: string, source: string): CabIndex {
  const [root] = parseXml(xml, source);
  const bad = (msg: string): PatchscanError => new PatchscanError('CATALOG_BAD_FORMAT', `${source}: ${msg}`, { file: source });
  if (!root || localName(root.name) !== 'INDEX') throw bad('root element must be <INDEX>');
  const list = child(root, 'CABLIST');
  if (!list) throw bad('<INDEX> has no <CABLIST>');
  let packageCab: string | undefined;
  const ranges: { name: string; rangeStart: number }[] = [];
  for (const cab of childrenNamed(list, 'CAB')) {
    const name = cab.attrs.NAME;
    if (!name || /[\\/]|\.\./.test(name)) throw bad(`<CAB> has a missing or unsafe NAME ${JSON.stringify(name ?? null)}`);
    const start = cab.attrs.RANGESTART;
    if (start === undefined) {
      if (packageCab !== undefined) throw bad(`two cabinets without RANGESTART (${packageCab}, ${name}); only package.cab may lack it`);
      packageCab = name;
    } else {
      if (!/^\d+$/.test(start)) throw bad(`RANGESTART of ${name} is not a number (${JSON.stringify(start)})`);
      ranges.push({ name, rangeStart: Number(start) });
    }
  }
  if (!packageCab) throw bad('no cabinet without RANGESTART (package.cab) is listed');
  ranges.sort((a, b) => a.rangeStart - b.rangeStart);
  return { packageCab, ranges };
}
