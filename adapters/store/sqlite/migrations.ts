/**
 * The SQLite site database's schema, as an ordered list of migrations. `PRAGMA user_version` records how many have
 * run; opening a database runs the rest, each in its own transaction. Never edit a released migration: add one.
 * A migration is SQL, or a function for steps SQL cannot express (computing computer-name keys).
 * PostgreSQL's schema (adapters/store/postgres/migrations.ts) is the same tables at the latest version.
 *
 * Scan results are normalized the way the fleet format is: machines with the same profile (what the catalog's
 * rules can read) share one result set, so rows grow with profiles × updates, not clients × updates. The view
 * `client_update_states` gives the latest state of every client × update with its time and catalog version.
 */
import type Database from 'better-sqlite3';
import { computerKey } from '../computer-name.js';
import { RECOUNT_GUID_NAMED_CLASSIFICATIONS } from '../sql/shared-migrations.js';

export type Migration = string | ((db: Database.Database) => void);

export const MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

  CREATE TABLE clients (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    token_hash TEXT UNIQUE,          -- SHA-256 (hex) of the client's token; NULL until enrolled
    architecture TEXT,               -- from the latest inventory: x86 | x64 | ia64 | arm64 | other
    enrolled_at TEXT,
    last_upload_at TEXT,
    last_scan_at TEXT
  );

  CREATE TABLE inventories (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    received_at TEXT NOT NULL,
    sha256 TEXT NOT NULL,            -- of the body as stored
    body BLOB NOT NULL               -- the validated inventory, msgpack
  );
  CREATE INDEX inventories_by_client ON inventories(client_id, id);

  CREATE TABLE catalogs (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,     -- of the source wsusscn2.cab
    source TEXT NOT NULL,
    path TEXT NOT NULL,              -- compiled catalog file
    revisions INTEGER NOT NULL,
    signer TEXT,                     -- Authenticode signer subject, when the cabinet is signed
    signed_at TEXT,
    imported_at TEXT NOT NULL
  );

  CREATE TABLE result_sets (
    id INTEGER PRIMARY KEY,
    catalog_id INTEGER NOT NULL REFERENCES catalogs(id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    installed INTEGER NOT NULL, required INTEGER NOT NULL, not_applicable INTEGER NOT NULL, unknown INTEGER NOT NULL,
    UNIQUE (catalog_id, fingerprint)
  );

  CREATE TABLE result_updates (
    set_id INTEGER NOT NULL REFERENCES result_sets(id) ON DELETE CASCADE,
    update_index INTEGER NOT NULL,   -- in the result set's catalog version
    update_id TEXT NOT NULL,
    revision_number INTEGER NOT NULL,
    state TEXT NOT NULL,
    superseded INTEGER NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (set_id, update_index)
  ) WITHOUT ROWID;
  CREATE INDEX result_updates_by_update ON result_updates(update_id, state, set_id);

  CREATE TABLE scans (
    client_id INTEGER PRIMARY KEY REFERENCES clients(id) ON DELETE CASCADE,
    inventory_id INTEGER NOT NULL,
    catalog_id INTEGER NOT NULL REFERENCES catalogs(id),
    set_id INTEGER NOT NULL REFERENCES result_sets(id),
    scanned_at TEXT NOT NULL,
    program TEXT NOT NULL
  );
  CREATE INDEX scans_by_set ON scans(set_id);

  CREATE VIEW client_update_states AS
    SELECT c.name AS computer, r.update_id, r.revision_number, r.state, r.superseded, r.reason, s.scanned_at, s.catalog_id, s.program
    FROM scans s JOIN clients c ON c.id = s.client_id JOIN result_updates r ON r.set_id = s.set_id;

  CREATE TABLE scan_queue (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    priority INTEGER NOT NULL,       -- 0 expedited, 1 normal
    enqueued_at TEXT NOT NULL,
    reason TEXT NOT NULL
  );
  CREATE INDEX scan_queue_order ON scan_queue(priority, id);
  CREATE INDEX scan_queue_by_client ON scan_queue(client_id);

  CREATE TABLE sync_messages (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    message_id INTEGER NOT NULL,     -- 6709 started, 6710 done, 6711 failed
    severity TEXT NOT NULL,
    text TEXT NOT NULL,
    catalog_id INTEGER REFERENCES catalogs(id) ON DELETE SET NULL
  );

  CREATE TABLE packages (
    id INTEGER PRIMARY KEY,
    role TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE
  );

  CREATE TABLE programs (
    id INTEGER PRIMARY KEY,
    role TEXT NOT NULL UNIQUE,       -- scan-x86, scan-x86-expedited, …, sync
    package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
    name TEXT NOT NULL UNIQUE,
    variant TEXT,                    -- x86 | x64 | ia64 | arm64; NULL for sync
    expedited INTEGER NOT NULL,
    command_line TEXT NOT NULL
  );

  CREATE TABLE collections (
    id INTEGER PRIMARY KEY,
    role TEXT NOT NULL UNIQUE,       -- main, pilot, x64, ia64, arm64, sync
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    architecture TEXT,               -- membership query: clients of this architecture ('*': every client)
    limit_to INTEGER REFERENCES collections(id) ON DELETE SET NULL
  );

  CREATE TABLE collection_members (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    computer TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (collection_id, computer)
  ) WITHOUT ROWID;

  CREATE TABLE advertisements (
    id INTEGER PRIMARY KEY,
    role TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    program_id INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    schedule TEXT NOT NULL
  );
  `,
  `
  -- Reports: each result set's counts per classification and per product (so fleet summaries add up sets, not
  -- rows), a daily compliance snapshot for the trend chart, and clients by last upload (stale clients).
  CREATE TABLE result_set_groups (
    set_id INTEGER NOT NULL REFERENCES result_sets(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,              -- classification | product
    name TEXT NOT NULL,
    installed INTEGER NOT NULL, required INTEGER NOT NULL, unknown INTEGER NOT NULL,
    PRIMARY KEY (set_id, kind, name)
  ) WITHOUT ROWID;

  CREATE TABLE compliance_daily (
    day TEXT PRIMARY KEY,            -- YYYY-MM-DD (UTC)
    clients INTEGER NOT NULL, scanned INTEGER NOT NULL, compliant INTEGER NOT NULL,
    installed INTEGER NOT NULL, required INTEGER NOT NULL, unknown INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE INDEX clients_by_last_upload ON clients(last_upload_at);
  `,
  (db) => {
    // Store port (v3): computer names compare by one normalized key (computer-name.ts), not by NOCASE; the scan
    // queue leases jobs (a worker that died gives its jobs back) and keeps the ones it gave up on; a counter
    // tells every process when targeting data (collections, members, advertisements) changed.
    db.exec(`
      ALTER TABLE clients ADD COLUMN name_key TEXT;
      CREATE TABLE collection_members_v3 (
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        computer TEXT NOT NULL,
        computer_key TEXT NOT NULL,
        PRIMARY KEY (collection_id, computer_key)
      ) WITHOUT ROWID;
      ALTER TABLE scan_queue ADD COLUMN leased_until TEXT;
      ALTER TABLE scan_queue ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE scan_queue ADD COLUMN not_before TEXT;
      ALTER TABLE scan_queue ADD COLUMN leased_by TEXT;    -- host/pid/start of the process holding the lease
      CREATE TABLE scan_failures (
        id INTEGER PRIMARY KEY,
        client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        priority INTEGER NOT NULL,
        reason TEXT NOT NULL,
        error TEXT NOT NULL,
        failed_at TEXT NOT NULL
      );
    `);
    const setKey = db.prepare('UPDATE clients SET name_key = ? WHERE id = ?');
    for (const c of db.prepare('SELECT id, name FROM clients').all() as { id: number; name: string }[])
      setKey.run(computerKey(c.name), c.id);
    const addMember = db.prepare('INSERT OR IGNORE INTO collection_members_v3 (collection_id, computer, computer_key) VALUES (?, ?, ?)');
    for (const m of db.prepare('SELECT collection_id, computer FROM collection_members').all() as {
      collection_id: number;
      computer: string;
    }[]) {
      addMember.run(m.collection_id, m.computer, computerKey(m.computer));
    }
    db.exec(`
      DROP TABLE collection_members;
      ALTER TABLE collection_members_v3 RENAME TO collection_members;
      CREATE INDEX collection_members_by_key ON collection_members(computer_key);
      CREATE UNIQUE INDEX clients_by_key ON clients(name_key);
      INSERT INTO settings (key, value) VALUES ('targeting_version', '1') ON CONFLICT (key) DO NOTHING;
    `);
  },
  `
  -- Catalog distribution: a compiled catalog's bytes, for processes on other machines (used by shared sites).
  ALTER TABLE catalogs ADD COLUMN file_sha256 TEXT;
  CREATE TABLE catalog_file_chunks (
    catalog_id INTEGER NOT NULL REFERENCES catalogs(id) ON DELETE CASCADE,
    chunk INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (catalog_id, chunk)
  ) WITHOUT ROWID;
  `,
  `
  -- Enrollment lifecycle: a revoked client keeps its row and data, without a token.
  ALTER TABLE clients ADD COLUMN revoked_at TEXT;

  -- Retention: each inventory's stored size (limits.storedBytesPerClient adds them up without reading bodies).
  ALTER TABLE inventories ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
  UPDATE inventories SET bytes = length(body);

  -- The inventory a client's latest scan read cannot be deleted while the scan refers to it: scans.inventory_id
  -- becomes a foreign key (SQLite adds one by rebuilding the table). A scan whose inventory is missing (none should
  -- be) is pointed at its client's latest inventory, or dropped when the client has none.
  DROP VIEW client_update_states;
  CREATE TABLE scans_v5 (
    client_id INTEGER PRIMARY KEY REFERENCES clients(id) ON DELETE CASCADE,
    inventory_id INTEGER NOT NULL REFERENCES inventories(id),
    catalog_id INTEGER NOT NULL REFERENCES catalogs(id),
    set_id INTEGER NOT NULL REFERENCES result_sets(id),
    scanned_at TEXT NOT NULL,
    program TEXT NOT NULL
  );
  INSERT INTO scans_v5 (client_id, inventory_id, catalog_id, set_id, scanned_at, program)
    SELECT client_id, inventory_id, catalog_id, set_id, scanned_at, program FROM (
      SELECT s.client_id, s.catalog_id, s.set_id, s.scanned_at, s.program,
        coalesce((SELECT i.id FROM inventories i WHERE i.id = s.inventory_id), (SELECT max(i.id) FROM inventories i WHERE i.client_id = s.client_id)) AS inventory_id
      FROM scans s)
    WHERE inventory_id IS NOT NULL;
  DROP TABLE scans;
  ALTER TABLE scans_v5 RENAME TO scans;
  CREATE INDEX scans_by_set ON scans(set_id);
  CREATE INDEX scans_by_inventory ON scans(inventory_id);
  CREATE VIEW client_update_states AS
    SELECT c.name AS computer, r.update_id, r.revision_number, r.state, r.superseded, r.reason, s.scanned_at, s.catalog_id, s.program
    FROM scans s JOIN clients c ON c.id = s.client_id JOIN result_updates r ON r.set_id = s.set_id;
  `,
  `
  -- Software update groups (Configuration Manager's): a named set of updates, resolved from KBs, a release window,
  -- classifications or products when the group is made (later catalogs do not change it; add and remove do), with
  -- an optional deadline. The criteria are kept as given (JSON) so the group can say how it was made.
  CREATE TABLE update_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,   -- lower(name): names compare case-insensitively
    criteria TEXT NOT NULL,          -- JSON: { kbs, releasedAfter, releasedBefore, classifications, products }
    deadline TEXT,                   -- ISO-8601 UTC; machines still needing a group update after it are overdue
    created_at TEXT NOT NULL
  );
  CREATE TABLE update_group_updates (
    group_id INTEGER NOT NULL REFERENCES update_groups(id) ON DELETE CASCADE,
    update_id TEXT NOT NULL,
    kb TEXT NOT NULL,                -- '' when the update has none
    title TEXT NOT NULL,
    PRIMARY KEY (group_id, update_id)
  ) WITHOUT ROWID;
  `,
  `
  -- The operating system of a client's latest inventory, as people name it ("Windows 10 22H2 (10.0.19045.3803)"):
  -- the console's OS column. NULL until the client uploads again.
  ALTER TABLE clients ADD COLUMN os TEXT;
  `,
  `
  -- The counting rule (engine/scanner/counting.ts; docs/semantics.md, "Counting"): a result set's required counts the
  -- Required updates that are not superseded; superseded and possibly superseded Required ones are counted apart
  -- (result_updates.superseded is the supersedence code: 0 no, 1 yes, 2 possibly). Sets stored before counted every
  -- Required update: they are recounted from their rows (exact: they hold no code 2). Daily snapshots keep what was
  -- recorded; days recorded from now on carry the new counts.
  ALTER TABLE result_sets ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE result_sets ADD COLUMN possibly_superseded INTEGER NOT NULL DEFAULT 0;
  UPDATE result_sets SET
    required = (SELECT count(*) FROM result_updates u WHERE u.set_id = result_sets.id AND u.state = 'Required' AND u.superseded = 0),
    superseded = (SELECT count(*) FROM result_updates u WHERE u.set_id = result_sets.id AND u.state = 'Required' AND u.superseded = 1),
    possibly_superseded = (SELECT count(*) FROM result_updates u WHERE u.set_id = result_sets.id AND u.state = 'Required' AND u.superseded = 2);
  ALTER TABLE compliance_daily ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE compliance_daily ADD COLUMN possibly_superseded INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- Console sessions (adapters/server/console/sessions.ts), kept in the store so that every \`serve\` of a site knows
  -- them (two servers behind a load balancer) and a restart keeps them: the SHA-256 of the session id (the cookie's
  -- value is never stored), the admin token hash it was opened with (\`admin-token reset\` signs it out), its expiry.
  CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    admin_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX console_sessions_by_expiry ON console_sessions(expires_at);
  CREATE INDEX console_sessions_by_age ON console_sessions(created_at);
  `,
  `
  -- Counts per classification and product (result_set_groups) of sets stored before the counting rule counted
  -- superseded Required updates as required, and cannot be recounted in SQL: a row's classification and products are
  -- the catalog's. Every stored set is marked; the first process that loads catalogs (serve at start, any scan run)
  -- recounts the marked sets from their outcomes (adapters/site/result-groups.ts), and reports leave a marked set's
  -- group counts out until then. Recounting a set counted by the rule already gives the same numbers.
  ALTER TABLE result_sets ADD COLUMN groups_stale INTEGER NOT NULL DEFAULT 0;
  UPDATE result_sets SET groups_stale = 1;
  CREATE INDEX result_sets_groups_stale ON result_sets (groups_stale) WHERE groups_stale = 1;
  `,
  `
  -- Scan job ids are never used twice (AUTOINCREMENT). A plain INTEGER PRIMARY KEY gives a new row the largest id + 1,
  -- so once the newest jobs ended, the next upload's job took an id a worker may still name: failing or completing
  -- "its" job by id (a worker whose lease ran out; serve giving back a dead scan thread's batch just after it was
  -- stored) then touched the new job instead — a try counted against it, or its scan lost.
  CREATE TABLE scan_queue_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    priority INTEGER NOT NULL,       -- 0 expedited, 1 normal
    enqueued_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    leased_until TEXT,
    retries INTEGER NOT NULL DEFAULT 0,
    not_before TEXT,
    leased_by TEXT                   -- host/pid/start of the process holding the lease
  );
  INSERT INTO scan_queue_v2 (id, client_id, priority, enqueued_at, reason, leased_until, retries, not_before, leased_by)
    SELECT id, client_id, priority, enqueued_at, reason, leased_until, retries, not_before, leased_by FROM scan_queue;
  DROP TABLE scan_queue;
  ALTER TABLE scan_queue_v2 RENAME TO scan_queue;
  CREATE INDEX scan_queue_order ON scan_queue(priority, id);
  CREATE INDEX scan_queue_by_client ON scan_queue(client_id);
  `,
  `
  -- Every update id a result row names, numbered once per site (update_keys), and the rows' index by update on that
  -- number instead of the 36-character id: storing a result set (~1,800 rows) inserted into the index by update at
  -- ~1,800 random places of a B-tree growing with every set — half of a site's scan time. Numbers are given in the order
  -- rows are written (catalog order), so a set's inserts sweep the index in order. Reports by update look the number up.
  CREATE TABLE update_keys (
    id INTEGER PRIMARY KEY,
    update_id TEXT NOT NULL UNIQUE
  );
  INSERT INTO update_keys (update_id)
    SELECT update_id FROM result_updates GROUP BY update_id ORDER BY min(update_index), update_id;
  ALTER TABLE result_updates ADD COLUMN update_key INTEGER NOT NULL DEFAULT 0;
  UPDATE result_updates SET update_key = (SELECT k.id FROM update_keys k WHERE k.update_id = result_updates.update_id);
  DROP INDEX result_updates_by_update;
  CREATE INDEX result_updates_by_key ON result_updates(update_key, state, set_id);
  -- A row written without a number (by a process of the previous release still running on this database) is numbered
  -- as it is written, rather than missing from every report by update.
  CREATE TRIGGER result_updates_numbered AFTER INSERT ON result_updates WHEN NEW.update_key = 0
  BEGIN
    INSERT OR IGNORE INTO update_keys (update_id) VALUES (NEW.update_id);
    UPDATE result_updates SET update_key = (SELECT k.id FROM update_keys k WHERE k.update_id = NEW.update_id)
      WHERE set_id = NEW.set_id AND update_index = NEW.update_index;
  END;
  `,
  `
  -- A result set carried over to a new catalog (adapters/site/scan-service.ts) is stored as its changes on the set it
  -- came from, not as a copy: after a Patch Tuesday ~2 % of a set's rows differ, and copying the other 98 % was most
  -- of the carry-over's time and of the database's growth per catalog. Such a set names its base (always a set stored
  -- whole) in base_set_id; its own rows (overrides = 1) replace every base row of their update id, and a row with
  -- overrides = 2 says the base's rows of that update id are not in the set (no row of its own). Every other base row
  -- is the set's, at the index catalog_index_maps gives it in the set's catalog. Readers go through both (store.ts,
  -- and the view below); a process of an earlier release reads such a set as its own rows only: upgrade every process
  -- of a site before it puts a new catalog in service.
  ALTER TABLE result_sets ADD COLUMN base_set_id INTEGER REFERENCES result_sets(id);
  -- Every outcome of the set, packed (engine/fleet/result-set.ts: little-endian uint32 words by catalog index): what a
  -- carry-over reads instead of the set's rows. NULL for sets stored before.
  ALTER TABLE result_sets ADD COLUMN outcomes BLOB;
  CREATE INDEX result_sets_by_base ON result_sets(base_set_id) WHERE base_set_id IS NOT NULL;
  ALTER TABLE result_updates ADD COLUMN overrides INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX result_updates_overrides ON result_updates(set_id, update_key) WHERE overrides > 0;
  -- Per index of a base set's catalog, the index of the same update revision in a carried set's catalog (-1: none),
  -- as little-endian int32.
  CREATE TABLE catalog_index_maps (
    from_catalog_id INTEGER NOT NULL REFERENCES catalogs(id) ON DELETE CASCADE,
    to_catalog_id INTEGER NOT NULL REFERENCES catalogs(id) ON DELETE CASCADE,
    map BLOB NOT NULL,
    PRIMARY KEY (from_catalog_id, to_catalog_id)
  ) WITHOUT ROWID;
  DROP VIEW client_update_states;
  CREATE VIEW client_update_states AS
    SELECT c.name AS computer, r.update_id, r.revision_number, r.state, r.superseded, r.reason, s.scanned_at, s.catalog_id, s.program
    FROM scans s JOIN clients c ON c.id = s.client_id JOIN result_updates r ON r.set_id = s.set_id
    WHERE r.overrides < 2
    UNION ALL
    SELECT c.name AS computer, b.update_id, b.revision_number, b.state, b.superseded, b.reason, s.scanned_at, s.catalog_id, s.program
    FROM scans s JOIN clients c ON c.id = s.client_id JOIN result_sets rs ON rs.id = s.set_id
    JOIN result_updates b ON b.set_id = rs.base_set_id
    WHERE NOT EXISTS (SELECT 1 FROM result_updates d INDEXED BY result_updates_overrides
      WHERE d.set_id = rs.id AND d.update_key = b.update_key AND d.overrides > 0);
  `,
  `
  -- How the result sets of one catalog carry over to the next (adapters/site/catalog-carry-over.ts encode: the diff of
  -- the two catalogs and what a carry-over reads of the old one), made once when a sync puts a catalog in service, so
  -- that no scanning process has to load the old catalog and diff the two again.
  CREATE TABLE catalog_carry_overs (
    from_catalog_id INTEGER NOT NULL REFERENCES catalogs(id) ON DELETE CASCADE,
    to_catalog_id INTEGER NOT NULL REFERENCES catalogs(id) ON DELETE CASCADE,
    plan BLOB NOT NULL,
    PRIMARY KEY (from_catalog_id, to_catalog_id)
  ) WITHOUT ROWID;
  `,
  RECOUNT_GUID_NAMED_CLASSIFICATIONS,
];
