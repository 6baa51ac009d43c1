/** Reads inventory files (JSON or msgpack, by extension or by sniffing), with a size limit. */
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { PatchscanError, ioError } from '../../engine/errors.js';
import { decodeInventory } from '../../engine/inventory/validate.js';
import type { Inventory } from '../../engine/inventory/types.js';

export const MAX_INVENTORY_BYTES = 64 * 1024 * 1024;

export function readInventoryFile(path: string, maxBytes = MAX_INVENTORY_BYTES): Inventory {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw ioError('read the inventory', path, e);
  }
  if (size > maxBytes) throw new PatchscanError('INVENTORY_INVALID', `${path}: ${size} bytes is more than the ${maxBytes} allowed for one inventory`, { file: path });
  const ext = extname(path).toLowerCase();
  const format = ext === '.json' ? 'json' : ext === '.msgpack' || ext === '.mpk' ? 'msgpack' : undefined;
  return decodeInventory(readFileSync(path), path, format);
}
