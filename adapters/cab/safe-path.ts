/**
 * Entry names come from the archive, i.e. from whoever made it. A name may never place a file outside the
 * extraction directory: absolute names, drive letters, `..` components and control characters are refused.
 */
import { resolve, sep } from 'node:path';
import { PatchscanError } from '../../engine/errors.js';

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Returns the entry's path components, or throws `CAB_UNSAFE_PATH`. */
export function safeComponents(name: string, cabinet: string): string[] {
  const refuse = (why: string): never => {
    throw new PatchscanError('CAB_UNSAFE_PATH', `${cabinet}: entry name ${JSON.stringify(name)} ${why}; refusing to extract it`, {
      file: cabinet,
      entry: name,
    });
  };
  if (CONTROL.test(name)) refuse('contains control characters');
  const unified = name.replaceAll('\\', '/');
  if (unified.startsWith('/')) refuse('is absolute');
  if (/^[A-Za-z]:/.test(unified)) refuse('starts with a drive letter');
  const parts = unified.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0) refuse('is empty');
  if (parts.some((p) => p === '..')) refuse('climbs out of the target directory');
  if (parts.some((p) => p.includes(':'))) refuse('contains a colon (drive or stream name)');
  return parts;
}

/** Joins a checked entry name under `root` and proves the result stays inside it. */
export function resolveInside(root: string, name: string, cabinet: string): string {
  const base = resolve(root);
  const target = resolve(base, ...safeComponents(name, cabinet));
  if (!target.startsWith(base + sep)) {
    throw new PatchscanError('CAB_UNSAFE_PATH', `${cabinet}: entry ${JSON.stringify(name)} resolves outside ${base}`, {
      file: cabinet,
      entry: name,
    });
  }
  return target;
}
