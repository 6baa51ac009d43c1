/** What a console page is given: the store and catalogs to ask, the request's URL, and its lists (see table.ts). */
import type { CatalogVersions } from '../../site/reports.js';
import type { SiteStore } from '../../store/port.js';
import type { PageLists } from './table.js';

export interface PageContext {
  readonly store: SiteStore;
  readonly catalogs: CatalogVersions;
  readonly url: URL;
  readonly lists: PageLists;
}

/** A page's HTML, or undefined when what it names does not exist (404). */
export type PageResult = Promise<string | undefined>;
