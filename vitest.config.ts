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
    globalSetup: ['test/setup/bundled-catalog.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      // Processes, servers and databases are slower on a busy machine: more time, never fewer assertions.
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: UNIT, testTimeout: 60_000 } },
    ],
  },
});
