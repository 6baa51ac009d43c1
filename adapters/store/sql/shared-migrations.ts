/**
 * Migration statements that are the same SQL on SQLite and PostgreSQL, written once: each backend's migration list
 * (sqlite/migrations.ts, postgres/migrations.ts) takes its step from here. Frozen once released, as every migration.
 */

/**
 * Counts per classification (result_set_groups) stored before a classification the catalog carries no category
 * revision for was named by WSUS's name of it (engine/catalog/classifications.ts) name it by its GUID: those sets are
 * marked, and recounted as the earlier counting-rule migration's were (adapters/site/result-groups.ts). The GUIDs
 * are Microsoft's twelve, as that file lists them on the day of this migration.
 */
export const RECOUNT_GUID_NAMED_CLASSIFICATIONS = `
  UPDATE result_sets SET groups_stale = 1
  WHERE id IN (SELECT set_id FROM result_set_groups WHERE kind = 'classification' AND lower(name) IN (
      '5c9376ab-8ce6-464a-b136-22113dd69801', '434de588-ed14-48f5-8eed-a15e09a991f6', 'e6cf1350-c01b-414d-a61f-263d14d133b4',
      'e0789628-ce08-4437-be74-2495b842f43b', 'e140075d-8433-45c3-ad87-e72345b36078', 'b54e7d24-7add-428f-8b75-90a396fa584f',
      '9511d615-35b2-47bb-927f-f73d8e9260bb', '0fa1201d-4330-4fa8-8ae9-b877473b6441', '68c5b0a3-d1a6-4553-ae49-01d3a7827828',
      'b4832bd8-e735-4761-8daf-37f882276dab', '28bc880e-0592-4cbf-8f95-c79b17911d5f', 'cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83'));
`;
