/** Reads inventory files (JSON or msgpack, by extension or by sniffing), with a size limit. */
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { PatchscanError, ioError } from '../../engine/errors.js';
import { decodeInventory, DEFAULT_INVENTORY_LIMITS } from '../../engine/inventory/validate.js';
import { readChunks } from '../fs/chunks.js';
import type { Inventory } from '../../engine/inventory/types.js';

export const MAX_INVENTORY_BYTES = DEFAULT_INVENTORY_LIMITS.maxBytes;

/** A directory's read fails with no path in its error: refused before the read, for ioError to say it with the path. */
const isDirectory = (): Error => Object.assign(new Error('EISDIR'), { code: 'EISDIR', syscall: 'read' });

/** Reads at most `maxBytes + 1` bytes: enough for the decoder to refuse an oversized file without loading it. */
export function readBounded(path: string, maxBytes = MAX_INVENTORY_BYTES): Buffer {
  const parts: Buffer[] = [];
  let n = 0;
  try {
    if (statSync(path).isDirectory()) throw isDirectory();
    for (const chunk of readChunks(path, 1 << 20)) {
      const take = Math.min(chunk.length, maxBytes + 1 - n);
      parts.push(Buffer.from(chunk.subarray(0, take)));
      n += take;
      if (n > maxBytes) break;
    }
  } catch (e) {
    throw PatchscanError.is(e) ? e : ioError('read the inventory', path, e);
  }
  return Buffer.concat(parts);
}

export function readInventoryFile(path: string, maxBytes = MAX_INVENTORY_BYTES): Inventory {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw isDirectory();
    size = st.size;
  } catch (e) {
    throw ioError('read the inventory', path, e);
  }
  if (size > maxBytes)
    throw new PatchscanError('INVENTORY_INVALID', `${path}: ${size} bytes is more than the ${maxBytes} allowed for one inventory`, {
      file: path,
    });
  const ext = extname(path).toLowerCase();
  const format = ext === '.json' ? 'json' : ext === '.msgpack' || ext === '.mpk' ? 'msgpack' : undefined;
  try {
    return decodeInventory(readFileSync(path), path, format);
  } catch (e) {
    // JSON that goes on after its first document, from line 2: most likely a fleet (JSON Lines) given as one inventory.
    if (PatchscanError.is(e, 'INVENTORY_INVALID') && /non-whitespace character after JSON .*\(line (?!1,)\d+, column 1\)/.test(e.message))
      throw new PatchscanError(
        'INVENTORY_INVALID',
        `${e.message} — one inventory per line is a fleet: "patchscan scan --inventories ${path}" reads it`,
        e.details,
        { cause: e },
      );
    throw e;
  }
}
