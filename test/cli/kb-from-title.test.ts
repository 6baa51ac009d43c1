/**
 * KB of CBS updates (issue 15, item 5): the real extended fragment of the cumulative update KB5026368 has no
 * KBArticleID, so the KB comes from the title's "(KB5026368)"; `catalog show` says where a KB came from, and
 * `catalog show`, `explain` and scan rows find and name the update by that KB, in the built CLI as a user runs it.
 * (Which titles give a KB: test/catalog/kb-from-title.test.ts.)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeCatalogFile } from '../../engine/catalog/file.js';
import { cbsCatalog, REAL_EXTENDED, TITLE } from '../helpers/kb5026368.js';
import { runCli, type CliRun } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';
const run = (args: string[]): CliRun => runCli(args);
describe("catalog show, explain and scan by the title's KB (the patchscan command)", () => {
  const dir = tempDir();
  const file = join(dir, 'kb.pscat');
  writeCatalogFile(file, cbsCatalog(REAL_EXTENDED, [['en', TITLE]]).data);
  const inventory = join(dir, 'pc.json');
  writeFileSync(
    inventory,
    JSON.stringify({
      schema: 'patchscan-inventory/1',
      computer: { name: 'ARM-PC' },
      collectedAt: '2026-11-24T00:00:00Z',
      os: { major: 10, minor: 0, build: 22000, productType: 1 },
      processor: { architecture: 12 },
      registry: [
        { key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing', exists: true, values: [] },
      ],
      cbs: { packages: [] },
    }),
  );

  it('catalog show KB5026368 finds it and says the KB came from the title', () => {
    const r = run(['catalog', 'show', file, 'KB5026368']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`KB5026368  ${TITLE}`);
    expect(r.out).toContain('KB              KB5026368 (from the title: the extended fragment has no KBArticleID)');
    expect(JSON.parse(run(['catalog', 'show', file, '5026368', '--json']).out)).toMatchObject({ kb: '5026368', kbSource: 'title' });
  });

  it('explain and scan name the update by its KB', () => {
    const e = run(['explain', '-c', file, inventory, 'KB5026368', '--json']);
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(e.out)).toMatchObject({ kb: '5026368', title: TITLE, computer: 'ARM-PC' });
    const s = run(['scan', '-c', file, inventory, '--all', '-f', 'json']);
    expect(s.code, s.err).toBe(0);
    expect((JSON.parse(s.out) as { kb: string }[]).map((row) => row.kb)).toEqual(['5026368']);
  });
});
