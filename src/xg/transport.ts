/**
 * The XG XML API as request → answer: a document is serialised with the login (every request
 * carries it, §2.1), posted (http.ts), parsed, and its first two levels checked (request-level
 * Status, then Login); entity statuses are mapped to errors through the one table in errors.ts.
 * Debug lines carry the documents with every form of the password masked.
 */
import type { Dispatcher } from 'undici';
import { MASK, secretMasker } from '../util/mask.js';
import { XgError, XgOperationError, errorForStatus, isSuccessStatus, type XgErrorContext } from './errors.js';
import { postForm } from './http.js';
import { silentLogger, type XgLogger } from './log.js';
import { DEFAULT_API_VERSION, buildRequest, getXml, type Filter, type Operation, type XmlNode } from './request-xml.js';
import { checkEnvelope, isZeroRecords, parseResponse, type EntityResult, type XgResponse, type XgStatus } from './xml.js';

export const API_PATH = '/webconsole/APIController';

export interface XgTransportOptions {
  /** https://HOST:4444 (the API path is appended when the URL has none) or the full APIController URL. */
  url: string;
  username: string;
  password: string;
  /** The firewall's keep-alive pool (tls.ts buildDispatcher: trust, size cap); owned by the caller. */
  dispatcher: Dispatcher;
  /** Entities per Set/Remove request (iNoels/RIPEToSophosXGS sends 50). */
  batchSize?: number;
  requestTimeoutMs?: number;
  /** Fixed APIVersion; when unset, DEFAULT_API_VERSION first and then what the firewall reports. */
  apiVersion?: string;
  log?: XgLogger;
}

export type WriteKind = 'add' | 'update' | 'remove';

export interface WriteItem {
  /** The object's name, for results and errors. */
  name: string;
  node: XmlNode;
  /** What the item does, for errors (e.g. `leave`); the block's kind when unset. */
  op?: string;
}

/** One Set/Remove block of a multi-block request. */
export interface WriteBlock {
  kind: WriteKind;
  items: readonly WriteItem[];
}

/** One per item, in order: a success status, or the mapped error (with the status when there was one). */
export interface WriteResult {
  name: string;
  status?: XgStatus;
  error?: XgError;
}

function apiUrl(url: string): string {
  const u = new URL(url);
  if (u.pathname === '' || u.pathname === '/') u.pathname = API_PATH;
  return u.toString();
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const LOGGED_BODY_CHARS = 4096;

export class XgTransport {
  private readonly url: string;
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private readonly log: XgLogger;
  private readonly mask: (s: string) => string;
  private apiVersion: string;

  constructor(private readonly opts: XgTransportOptions) {
    this.url = apiUrl(opts.url);
    this.batchSize = Math.max(1, opts.batchSize ?? 50);
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.log = opts.log ?? silentLogger;
    this.mask = secretMasker(opts.password);
    this.apiVersion = opts.apiVersion ?? DEFAULT_API_VERSION;
  }

  /**
   * One request. With `onEntity`, entities are handed over as they are parsed and the answer's
   * `entities` stays empty (see parseResponse); what `onEntity` gathered must be dropped if this throws.
   */
  async call(op: string, operations: Operation[], ctx: XgErrorContext = {}, onEntity?: (e: EntityResult) => void): Promise<XgResponse> {
    const context: XgErrorContext = { op, ...ctx };
    const spec = { username: this.opts.username, apiVersion: this.apiVersion, operations };
    this.log.debug(`XG request ${op}: ${this.mask(buildRequest({ ...spec, password: MASK }))}`);
    const body = await postForm(
      this.url,
      { reqxml: buildRequest({ ...spec, password: this.opts.password }) },
      {
        dispatcher: this.opts.dispatcher,
        timeoutMs: this.timeoutMs,
        ctx: context,
      },
    );
    const shown = body.length > LOGGED_BODY_CHARS ? `${body.slice(0, LOGGED_BODY_CHARS)}… (${body.length} chars)` : body;
    this.log.debug(`XG response ${op}: ${this.mask(shown)}`);
    const resp = parseResponse(body, context, onEntity);
    if (this.opts.apiVersion === undefined && resp.apiVersion && /^\d{3,4}\.\d+$/.test(resp.apiVersion)) {
      this.apiVersion = resp.apiVersion;
    }
    checkEnvelope(resp, context);
    return resp;
  }

  /** Adds, updates or removes objects of one entity in batches; one result per item, in order. */
  async write(kind: WriteKind, entity: string, items: readonly WriteItem[]): Promise<WriteResult[]> {
    const results: WriteResult[] = [];
    for (const batch of chunk(items, this.batchSize)) {
      const entities = batch.map((i) => i.node);
      const op: Operation = kind === 'remove' ? { kind: 'remove', entities } : { kind: 'set', operation: kind, entities };
      const resp = await this.call(kind, [op], { entity });
      const answers = resp.entities.filter((e) => e.tag === entity);
      batch.forEach((item, i) => results.push(itemResult(item.name, answers[i]?.status, { op: item.op ?? kind, entity, name: item.name })));
    }
    return results;
  }

  /**
   * One request holding several blocks of one entity, in order (blocks of one kind must be
   * adjacent: request-xml.ts). One result per item, in document order: the firewall answers each
   * entity in the order it processed it.
   */
  async writeBlocks(entity: string, blocks: readonly WriteBlock[]): Promise<WriteResult[]> {
    const ops: Operation[] = blocks.map((b) => {
      const entities = b.items.map((i) => i.node);
      return b.kind === 'remove' ? { kind: 'remove', entities } : { kind: 'set', operation: b.kind, entities };
    });
    const resp = await this.call(blocks.map((b) => b.kind).join('+'), ops, { entity });
    const answers = resp.entities.filter((e) => e.tag === entity);
    const items = blocks.flatMap((b) => b.items.map((item) => ({ item, kind: b.kind })));
    return items.map(({ item, kind }, i) => itemResult(item.name, answers[i]?.status, { op: item.op ?? kind, entity, name: item.name }));
  }

  /**
   * Like forEach with several filters in one Get (one entity query each): what reading back a
   * batch's own objects costs is the batch, not everything owned. A refused filter falls back to
   * one unfiltered read. Objects may be visited twice; callers collect by name.
   */
  async forEachOf(entity: string, filters: readonly Filter[], visit: (fields: Record<string, unknown>) => void): Promise<void> {
    if (filters.length === 0) return;
    let refused: XgStatus | undefined;
    const entities = filters.map((f) => getXml(entity, f));
    await this.call('get', [{ kind: 'get', entities }], { entity }, (e) => {
      if (e.tag !== entity || refused) return;
      if (!e.status) return visit(e.fields);
      if (isZeroRecords(e.status) || (isSuccessStatus(e.status.code) && e.fields['Name'] === undefined)) return;
      refused = e.status;
    });
    if (!refused) return;
    this.log.debug(`Get ${entity} with filters answered "${refused.text}"; reading without filter`);
    return this.forEach(entity, undefined, visit);
  }

  /**
   * Calls `visit` with the fields of every `entity` in a Get answer. A filter the firmware
   * refuses (§4.5: "Transaction fail" and friends) is dropped and the Get repeated; `visit` may
   * then see an object twice, so callers collect by name. Filters may also be ignored (the
   * answer is everything), so callers decide what is theirs themselves.
   */
  async forEach(entity: string, filter: Filter | undefined, visit: (fields: Record<string, unknown>) => void): Promise<void> {
    let refused: XgStatus | undefined;
    await this.call('get', [{ kind: 'get', entities: [getXml(entity, filter)] }], { entity }, (e) => {
      if (e.tag !== entity || refused) return;
      if (!e.status) return visit(e.fields);
      if (isZeroRecords(e.status) || (isSuccessStatus(e.status.code) && e.fields['Name'] === undefined)) return;
      refused = e.status;
    });
    if (!refused) return;
    if (filter) {
      this.log.debug(`Get ${entity} with a filter answered "${refused.text}"; reading without filter`);
      return this.forEach(entity, undefined, visit);
    }
    throw errorForStatus(refused.code, refused.text, { op: 'get', entity });
  }
}

function itemResult(name: string, status: XgStatus | undefined, ctx: XgErrorContext): WriteResult {
  if (status && isSuccessStatus(status.code)) return { name, status };
  if (!status) {
    // A missing Status is not success (a silently dropped update was measured on SFOS 22).
    return {
      name,
      error: new XgOperationError('no result for this object in the response', { ...ctx, code: 'XG_NO_STATUS', retryable: true }),
    };
  }
  return { name, status, error: errorForStatus(status.code, status.text, ctx) };
}
