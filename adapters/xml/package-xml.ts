/**
 * Streaming reader for package.xml (reference §1.3). A real package.xml can be larger than Node's maximum
 * string, so it is fed in chunks to saxes (a strict, non-validating SAX parser) and each `<Update>` is
 * handed out as soon as it closes: memory stays flat whatever the file's size.
 *
 * DTDs are refused; saxes expands no entity beyond the predefined five.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { PatchscanError } from '../../engine/errors.js';
import { DEPLOYMENT_ACTIONS, type DeploymentAction, type PackageEntry, type Prerequisite } from '../../engine/model.js';
import { DEFAULT_XML_LIMITS, type XmlLimits } from './dom.js';
import { guid } from './fragments.js';

export interface PackageInfo {
  readonly packageId?: string;
  readonly packageVersion?: string;
  readonly protocolVersion?: string;
  readonly creationDate?: string;
  readonly minimumClientVersion?: string;
  readonly sourceId?: string;
}

export interface PackageXmlSink {
  onPackage?(info: PackageInfo): void;
  onUpdate(entry: PackageEntry): void;
  /** Called once with the number of `FileLocation` elements. */
  onFileLocations?(count: number): void;
}

interface Building {
  updateId: string;
  revisionNumber: number;
  revisionId: number;
  creationDate?: string;
  defaultLanguage?: string;
  isLeaf: boolean;
  isBundle: boolean;
  isSoftware?: boolean;
  deploymentAction: DeploymentAction;
  categories: { type: string; id: string }[];
  prerequisites: Prerequisite[];
  languages: string[];
  bundledBy: number[];
  supersededBy: number[];
  payloadFiles: number;
}

const local = (n: string): string => {
  const i = n.indexOf(':');
  return i < 0 ? n : n.slice(i + 1);
};

/** Push-style parser: `write()` chunks of bytes, then `end()`. Errors carry the source, line and column. */
export class PackageXmlParser {
  private readonly sax = new SaxesParser({ position: true });
  // Fatal: a byte sequence that is not UTF-8 is an error, never a silent U+FFFD.
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private bytesIn = 0;
  private readonly stack: string[] = [];
  private current: Building | undefined;
  private orGroup: string[] | undefined;
  private fileLocations = 0;
  private sawRoot = false;
  private failure: PatchscanError | undefined;
  updates = 0;

  constructor(
    private readonly source: string,
    private readonly sink: PackageXmlSink,
    private readonly limits: XmlLimits = DEFAULT_XML_LIMITS,
  ) {
    this.sax.on('doctype', () => {
      this.fail('DTDs are refused in package.xml (no entity expansion)');
    });
    this.sax.on('error', (e) => {
      throw this.failure ?? this.malformed(e.message.replace(/^[^:]*:\d+:\d+: /, ''));
    });
    this.sax.on('text', (t) => {
      if (t.length > this.limits.maxTextChars)
        this.fail(`a text run of ${t.length} characters, more than ${this.limits.maxTextChars} (maxTextChars)`);
    });
    this.sax.on('opentag', (t) => this.open(t as SaxesTagPlain));
    this.sax.on('closetag', (t) => this.close(local(t.name)));
  }

  private malformed(message: string): PatchscanError {
    return new PatchscanError('XML_MALFORMED', `${this.source}:${this.sax.line}:${this.sax.column}: ${message}`, {
      file: this.source,
      line: this.sax.line,
      column: this.sax.column,
    });
  }

  private fail(message: string): never {
    this.failure = this.malformed(message);
    throw this.failure;
  }

  private decode(chunk: Uint8Array | undefined): string {
    try {
      const text = chunk ? this.decoder.decode(chunk, { stream: true }) : this.decoder.decode();
      this.bytesIn += chunk?.length ?? 0;
      return text;
    } catch {
      throw new PatchscanError('XML_MALFORMED', `${this.source}: not valid UTF-8 (in the bytes after offset ${this.bytesIn})`, {
        file: this.source,
        offset: this.bytesIn,
      });
    }
  }

  write(chunk: Uint8Array): void {
    this.sax.write(this.decode(chunk));
  }

  end(): void {
    const rest = this.decode(undefined);
    if (rest) this.sax.write(rest);
    this.sax.close();
    if (!this.sawRoot) {
      throw new PatchscanError('CATALOG_BAD_FORMAT', `${this.source}: no OfflineSyncPackage root element`, { file: this.source });
    }
    this.sink.onFileLocations?.(this.fileLocations);
  }

  private open(t: SaxesTagPlain): void {
    const name = local(t.name);
    const a = t.attributes as Record<string, string>;
    if (this.stack.length >= this.limits.maxDepth) this.fail(`elements nest deeper than ${this.limits.maxDepth} levels (maxDepth)`);
    for (const [k, v] of Object.entries(a)) {
      if (v.length > this.limits.maxAttributeChars)
        this.fail(
          `attribute ${k} of <${name}> is ${v.length} characters long, more than ${this.limits.maxAttributeChars} (maxAttributeChars)`,
        );
    }
    const parent = this.stack[this.stack.length - 1];
    this.stack.push(name);
    if (this.stack.length === 1) {
      if (name !== 'OfflineSyncPackage') this.fail(`root element is <${t.name}>, expected <OfflineSyncPackage>`);
      this.sawRoot = true;
      this.sink.onPackage?.({
        ...(a.PackageId ? { packageId: a.PackageId } : {}),
        ...(a.PackageVersion ? { packageVersion: a.PackageVersion } : {}),
        ...(a.ProtocolVersion ? { protocolVersion: a.ProtocolVersion } : {}),
        ...(a.CreationDate ? { creationDate: a.CreationDate } : {}),
        ...(a.MinimumClientVersion ? { minimumClientVersion: a.MinimumClientVersion } : {}),
        ...(a.SourceId ? { sourceId: a.SourceId } : {}),
      });
      return;
    }
    if (name === 'Update' && parent === 'Updates') {
      // Whole numbers in digits: Number("") is 0, and an update read as revision 0 would be joined to no fragment.
      const digits = (v: string | undefined): number => (v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : NaN);
      const revisionId = digits(a.RevisionId);
      const revisionNumber = digits(a.RevisionNumber);
      if (!a.UpdateId || !Number.isInteger(revisionId) || !Number.isInteger(revisionNumber)) {
        this.fail(
          `<Update> needs UpdateId, and RevisionNumber and RevisionId as whole numbers (got ${JSON.stringify(a.RevisionNumber ?? null)}, ` +
            `${JSON.stringify(a.RevisionId ?? null)})`,
        );
      }
      const action = a.DeploymentAction ?? 'Install';
      this.current = {
        updateId: guid(a.UpdateId),
        revisionNumber,
        revisionId,
        ...(a.CreationDate ? { creationDate: a.CreationDate } : {}),
        ...(a.DefaultLanguage ? { defaultLanguage: a.DefaultLanguage } : {}),
        isLeaf: a.IsLeaf === 'true',
        isBundle: a.IsBundle === 'true',
        ...(a.IsSoftware !== undefined ? { isSoftware: a.IsSoftware === 'true' } : {}),
        deploymentAction: (DEPLOYMENT_ACTIONS as readonly string[]).includes(action) ? (action as DeploymentAction) : 'Install',
        categories: [],
        prerequisites: [],
        languages: [],
        bundledBy: [],
        supersededBy: [],
        payloadFiles: 0,
      };
      return;
    }
    const u = this.current;
    if (name === 'FileLocation') this.fileLocations++;
    if (!u) return;
    switch (name) {
      case 'UpdateId':
        if (parent === 'Prerequisites') u.prerequisites.push({ kind: 'update', updateId: guid(a.Id) });
        else if (parent === 'Or' && this.orGroup) this.orGroup.push(guid(a.Id));
        break;
      case 'Or':
        if (parent === 'Prerequisites') this.orGroup = [];
        break;
      case 'Category':
        if (parent === 'Categories') u.categories.push({ type: a.Type ?? '', id: guid(a.Id) });
        break;
      case 'Language':
        if (parent === 'Languages') u.languages.push(a.Name ?? '');
        break;
      case 'File':
        if (parent === 'PayloadFiles') u.payloadFiles++;
        break;
      case 'Revision':
        if (parent === 'BundledBy' || parent === 'SupersededBy') {
          if (a.Id === undefined || !/^\d{1,15}$/.test(a.Id))
            this.fail(`<Revision> in ${parent} needs Id as a whole number (got ${JSON.stringify(a.Id ?? null)})`);
          (parent === 'BundledBy' ? u.bundledBy : u.supersededBy).push(Number(a.Id));
        }
        break;
    }
  }

  private close(name: string): void {
    this.stack.pop();
    if (name === 'Or' && this.current && this.orGroup) {
      this.current.prerequisites.push({ kind: 'atLeastOne', isCategory: false, updateIds: this.orGroup });
      this.orGroup = undefined;
    } else if (name === 'Update' && this.current && this.stack[this.stack.length - 1] === 'Updates') {
      const c = this.current;
      this.current = undefined;
      this.updates++;
      this.sink.onUpdate({
        updateId: c.updateId,
        revisionNumber: c.revisionNumber,
        revisionId: c.revisionId,
        ...(c.creationDate ? { creationDate: c.creationDate } : {}),
        ...(c.defaultLanguage ? { defaultLanguage: c.defaultLanguage } : {}),
        isLeaf: c.isLeaf,
        isBundle: c.isBundle,
        ...(c.isSoftware !== undefined ? { isSoftware: c.isSoftware } : {}),
        deploymentAction: c.deploymentAction,
        categories: c.categories,
        prerequisites: c.prerequisites,
        languages: c.languages,
        bundledByRevisionIds: c.bundledBy,
        supersededByRevisionIds: c.supersededBy,
        payloadFiles: c.payloadFiles,
      });
    }
  }
}
