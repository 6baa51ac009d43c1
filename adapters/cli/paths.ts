/** Where the installed package keeps its bundled files. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BUNDLED_CORPUS = join(PACKAGE_ROOT, 'corpus', 'default', 'wsusscn2.cab');
