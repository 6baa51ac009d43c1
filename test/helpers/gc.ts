/**
 * Full garbage collections on demand, for tests that check with weak references what a piece of code lets go.
 * A weak reference is cleared only between jobs, so each collection follows a turn of the event loop.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** `turns` turns of the event loop, each followed by a full collection. */
export async function collectGarbage(turns = 3): Promise<void> {
  for (let k = 0; k < turns; k++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}
