// Registered with `node --import …/hide-packages.mjs`: the packages named in PATCHSCAN_TEST_HIDE (comma-separated)
// cannot be found, as when an optional dependency was not installed (npm install --omit=optional, or a failed build).
import { register } from 'node:module';

register('./hide-packages-hooks.mjs', import.meta.url, { data: (process.env.PATCHSCAN_TEST_HIDE ?? '').split(',').filter(Boolean) });
