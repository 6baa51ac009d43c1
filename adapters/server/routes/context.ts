/**
 * What every route handler receives: the site, its store, authentication helpers, metrics and the log. A route
 * returns true when it answered the request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CatalogVersions } from '../../site/reports.js';
import type { Site } from '../../site/site.js';
import type { ClientRow, SiteStore } from '../../store/port.js';

export interface Metrics {
  uploadsAccepted: number;
  uploadsRejected: number;
  scans: number;
  readonly requests: Map<number, number>;
}

export interface RouteContext {
  readonly site: Site;
  readonly store: SiteStore;
  readonly catalogs: CatalogVersions;
  readonly metrics: Metrics;
  readonly log: (line: string) => void;
  /** Whether the request carries the admin token. */
  isAdmin(req: IncomingMessage): Promise<boolean>;
  /** The client whose token the request carries; 401 otherwise. */
  authClient(req: IncomingMessage): Promise<ClientRow>;
  /** Something was queued: let the scan workers know. */
  kick(): void;
}

export type Route = (ctx: RouteContext, req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
