/**
 * Every site report as CSV, from the CLI (`--csv`, the built CLI as a child process) and from HTTP (`?format=csv`, a
 * real loopback server): the two give the same bytes; a report without rows is its header line (a tool that loads it
 * sees the columns and no rows, not an empty file it cannot read); and where the JSON answer's items are flat, the CSV
 * header is exactly their keys, so a field added to a report cannot be missing from its CSV.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../adapters/server/server.js';
import type { Site } from '../../adapters/site/site.js';
import { runCliAsync, type CliRun } from '../helpers/serve.js';
import { scannedSite } from '../helpers/scanned-site.js';
import { tempDir } from '../helpers/tmp.js';

const ADMIN = 'psa_report-csv-admin';

const cli = (args: readonly string[]): Promise<CliRun> => runCliAsync(args);

async function http(server: RunningServer, path: string): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

const lines = (csv: string): string[] => csv.split('\r\n').slice(0, -1);

/** One report on both sides: CLI arguments (before --data) and the HTTP path with its query. */
interface Pair {
  readonly what: string;
  readonly cli: readonly string[];
  readonly http: string;
}

const GROUP = 'Security 2016';

const pairs = (computer: string): Pair[] => [
  { what: 'collections', cli: ['report', 'collections'], http: '/v1/reports/collections' },
  { what: 'classifications', cli: ['report', 'classifications'], http: '/v1/reports/classifications' },
  { what: 'products', cli: ['report', 'products'], http: '/v1/reports/products' },
  { what: 'stale', cli: ['report', 'stale', '--days', '0'], http: '/v1/reports/stale?days=0&limit=1000' },
  { what: 'trend', cli: ['report', 'trend'], http: '/v1/reports/trend' },
  { what: 'sync', cli: ['report', 'sync'], http: '/v1/sync?limit=100' },
  { what: 'update', cli: ['report', 'update', 'KB3090243'], http: '/v1/updates/KB3090243?limit=100' },
  { what: 'group list', cli: ['group', 'list'], http: '/v1/groups' },
  { what: 'group show', cli: ['group', 'show', GROUP], http: `/v1/groups/${encodeURIComponent(GROUP)}` },
  {
    what: 'group computers',
    cli: ['group', 'computers', GROUP, '--limit', '1000'],
    http: `/v1/groups/${encodeURIComponent(GROUP)}/computers?limit=1000`,
  },
  ...(computer
    ? [
        { what: 'computer', cli: ['report', 'computer', computer], http: `/v1/computers/${computer}/compliance` },
        {
          what: 'group computer',
          cli: ['group', 'computer', GROUP, computer],
          http: `/v1/groups/${encodeURIComponent(GROUP)}/computers/${computer}`,
        },
      ]
    : []),
];

describe.each([
  { clients: 0, label: 'a site with no clients' },
  { clients: 3, label: 'a scanned site' },
])('report CSV on $label', ({ clients }) => {
  const dir = tempDir();
  let site: Site;
  let server: RunningServer;

  beforeAll(async () => {
    ({ site } = await scannedSite(dir, { clients, admin: ADMIN, unscanned: clients ? ['PC-NEW'] : [] }));
    server = await serve(site, { listen: '127.0.0.1:0', scheduledSync: false });
    const made = await cli(['group', 'create', GROUP, '--classification', 'Security Updates', '--data', dir]);
    expect(made.code, made.err).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await site?.close();
  });

  it('the CLI and HTTP give the same CSV for every report', async () => {
    for (const p of pairs(clients ? 'PC-0001' : '')) {
      const [c, h] = await Promise.all([
        cli([...p.cli, '--csv', '--data', dir]),
        http(server, `${p.http}${p.http.includes('?') ? '&' : '?'}format=csv`),
      ]);
      expect(c.code, `${p.what}: ${c.err}`).toBe(0);
      expect(h.status, `${p.what}: ${h.body}`).toBe(200);
      expect(h.type, p.what).toMatch(/^text\/csv/);
      expect(h.body, p.what).toBe(c.out);
      expect(lines(c.out).length, p.what).toBeGreaterThanOrEqual(1);
      expect(lines(c.out)[0], p.what).toMatch(/^[a-zA-Z_]+(,[a-zA-Z_]+)+$/);
    }
  }, 120_000);

  it('a report without rows is its header alone', async () => {
    const empty = [
      '/v1/computers?q=NO-SUCH-PC',
      '/v1/updates?q=no-such-update',
      '/v1/cves?q=CVE-1900',
      `/v1/groups/${encodeURIComponent(GROUP)}/computers?state=Compliant&overdue=1`,
      ...(clients ? [] : ['/v1/reports/trend', '/v1/updates/KB3090243', '/v1/computers', '/v1/reports/stale?days=0']),
    ];
    for (const path of empty) {
      const h = await http(server, `${path}${path.includes('?') ? '&' : '?'}format=csv`);
      expect(h.status, `${path}: ${h.body}`).toBe(200);
      expect(lines(h.body), path).toHaveLength(1);
      expect(lines(h.body)[0], path).toMatch(/^[a-zA-Z_]+(,[a-zA-Z_]+)+$/);
    }
    if (!clients) expect((await cli(['report', 'stale', '--days', '0', '--csv', '--data', dir])).out).toBe('name,lastUpload,lastScan\r\n');
  });

  it("the header is the JSON items' keys, in their order, wherever those are flat", async () => {
    const flat: { path: string; items: (body: any) => object[] }[] = [
      { path: '/v1/computers', items: (b) => b.items },
      { path: '/v1/reports/collections', items: (b) => b },
      { path: '/v1/reports/classifications', items: (b) => b },
      { path: '/v1/reports/stale?days=0', items: (b) => b.items },
      { path: '/v1/reports/trend', items: (b) => b },
      { path: '/v1/sync', items: (b) => b.messages },
      { path: '/v1/updates/KB3090243', items: (b) => b.machines.items },
      { path: `/v1/groups/${encodeURIComponent(GROUP)}`, items: (b) => b.collections },
      { path: `/v1/groups/${encodeURIComponent(GROUP)}/computers`, items: (b) => b.items },
    ];
    let compared = 0;
    for (const f of flat) {
      const items = f.items(JSON.parse((await http(server, f.path)).body));
      const header = lines((await http(server, `${f.path}${f.path.includes('?') ? '&' : '?'}format=csv`)).body)[0];
      if (items.length === 0) continue;
      expect(header.split(','), f.path).toEqual(Object.keys(items[0]));
      compared++;
    }
    // The scanned site has rows in every one of them; the empty one in those that list collections, sync messages, stale clients.
    expect(compared).toBeGreaterThanOrEqual(clients ? flat.length : 3);
  });
});
