/**
 * Microsoft's update classifications, by category GUID. A catalog names each classification it uses by a category
 * revision of its own, with a title; this table names one when the catalog does not carry it — a SCUP/WSUS local
 * package (adapters/xml/sdp.ts) names its classification in words, and a vendor catalog compiled alone has no
 * Microsoft category tree — so a report shows "Updates", not "cd5ffd1e-e932-…".
 *
 * Source: Microsoft, "WSUS Classification GUIDs" (Windows Server Update Services, docs.microsoft.com
 * previous-versions/windows/desktop/ff357803), which lists the twelve below; the names are the words WSUS's console
 * shows for them. Drivers and Upgrades are left out: that page does not list them.
 */

/** WSUS's name of each classification → its category GUID (lower case, as the catalog compiles GUIDs). */
export const CLASSIFICATION_IDS = {
  Applications: '5c9376ab-8ce6-464a-b136-22113dd69801',
  Connectors: '434de588-ed14-48f5-8eed-a15e09a991f6',
  'Critical Updates': 'e6cf1350-c01b-414d-a61f-263d14d133b4',
  'Definition Updates': 'e0789628-ce08-4437-be74-2495b842f43b',
  'Developer Kits': 'e140075d-8433-45c3-ad87-e72345b36078',
  'Feature Packs': 'b54e7d24-7add-428f-8b75-90a396fa584f',
  Guidance: '9511d615-35b2-47bb-927f-f73d8e9260bb',
  'Security Updates': '0fa1201d-4330-4fa8-8ae9-b877473b6441',
  'Service Packs': '68c5b0a3-d1a6-4553-ae49-01d3a7827828',
  Tools: 'b4832bd8-e735-4761-8daf-37f882276dab',
  'Update Rollups': '28bc880e-0592-4cbf-8f95-c79b17911d5f',
  Updates: 'cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83',
} as const satisfies Readonly<Record<string, string>>;

const NAME_OF_ID: ReadonlyMap<string, string> = new Map(Object.entries(CLASSIFICATION_IDS).map(([name, id]) => [id, name]));

/** The GUID of a classification named as WSUS names it, or undefined. */
export function classificationId(name: string): string | undefined {
  return Object.hasOwn(CLASSIFICATION_IDS, name) ? CLASSIFICATION_IDS[name as keyof typeof CLASSIFICATION_IDS] : undefined;
}

/** WSUS's name of the classification with this category GUID (any case), or undefined for one it does not list. */
export function classificationName(id: string): string | undefined {
  return NAME_OF_ID.get(id.toLowerCase());
}
