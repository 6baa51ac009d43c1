/** Extracts a cabinet with patchscan's reader in a fresh process; prints seconds and peak RSS as JSON. */
import { extractCab } from '../adapters/cab/extract.js';

const [cab, dir] = process.argv.slice(2);
const t = performance.now();
const files = extractCab(cab!, dir!);
process.stdout.write(
  `${JSON.stringify({ seconds: (performance.now() - t) / 1000, bytes: files.reduce((n, f) => n + f.size, 0), maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
