import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Two projects, so the edit–test loop is fast: `unit` (the engine, formats, catalog import, generators — no process,
 * server, database or browser; seconds) and `integration` (everything else: CLI processes, servers on loopback,
 * SQLite and PostgreSQL sites, worker threads, Chromium). `npm test` runs both; `npm run test:unit` and
 * `npm run test:integration` run one.
 */
const UNIT = ['test/{cab,catalog,corpus,engine,reference,scan-output,xml}/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one file at a time per core less one: a single file on a 2-core machine, where most
    // integration files spend their time waiting on the processes, servers and databases they start. Two at least.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    globalSetup: ['test/setup/bundled-catalog.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      // Processes, servers and databases are slower on a busy machine: more time, never fewer assertions.
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: UNIT, testTimeout: 60_000 } },
    ],
  },
});
