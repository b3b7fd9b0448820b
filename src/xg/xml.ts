/**
 * Reading the XG's response documents (requests are built in request-xml.ts). Pure: no I/O, no clock.
 *
 * Responses are read leniently (junk before the prolog, NUL bytes, one-vs-many nodes, code-less
 * statuses) but refuse anything with a DOCTYPE: entity expansion is never performed, only the five
 * predefined entities and numeric character references are decoded.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { AddressFamily } from '../core/address.js';
import { XgTransportError, errorForStatus, isSuccessStatus, type XgErrorContext } from './errors.js';
import type { HostFields } from './request-xml.js';

/** Where address.ts (and older imports) find it; the fields are defined beside the builder. */

export interface XgStatus {
  code?: number;
  text: string;
}

export interface EntityResult {
  tag: string;
  /** The first Status of the element, if any (Set/Remove results, zero-records, failed Gets). */
  status?: XgStatus;
  fields: Record<string, unknown>;
}

export interface XgResponse {
  apiVersion?: string;
  /** A Status directly under Response: a whole-request refusal (529/532/534). */
  status?: XgStatus;
  /** Text of Login/status, when the response has a Login element. */
  login?: string;
  entities: EntityResult[];
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g, (m, e: string) => {
    if (!e.startsWith('#')) return NAMED[e] ?? m;
    const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // No entity processing at all (DOCTYPE is refused before parsing); the predefined five and
  // character references are decoded by us.
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  tagValueProcessor: (_t: string, v: string) => decodeEntities(v),
  attributeValueProcessor: (_a: string, v: string) => decodeEntities(v),
});

function badResponse(why: string, ctx: XgErrorContext, retryable = true, code = 'XG_BAD_RESPONSE'): XgTransportError {
  return new XgTransportError(`unusable response from Sophos XG: ${why}`, { ...ctx, code, retryable });
}

/** Body as sent by the firewall, minus NULs and anything before the XML (seen in one client, §1.1). */
function clean(body: string): string {
  const noNul = body.includes('\0') ? body.replace(/\0/g, '') : body;
  let start = noNul.indexOf('<?xml');
  if (start < 0) start = noNul.indexOf('<Response');
  if (start < 0) return '';
  const endTag = noNul.lastIndexOf('</Response>');
  return endTag >= 0 ? noNul.slice(start, endTag + '</Response>'.length) : noNul.slice(start).trimEnd();
}

export function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && typeof v === 'object' && '#text' in v) return text((v as Record<string, unknown>)['#text']);
  if (v && typeof v === 'object') return '';
  return undefined;
}

export function toArray<T>(v: T | T[] | undefined | null): T[] {
  if (v === undefined || v === null || v === '') return [];
  return Array.isArray(v) ? v : [v];
}

function parseStatus(v: unknown): XgStatus | undefined {
  if (v === undefined) return undefined;
  const first = Array.isArray(v) ? (v[0] as unknown) : v;
  const t = text(first) ?? '';
  const rawCode = first && typeof first === 'object' ? (first as Record<string, unknown>)['@_code'] : undefined;
  const code = typeof rawCode === 'string' && /^\d+$/.test(rawCode.trim()) ? Number(rawCode) : undefined;
  return code === undefined ? { text: t } : { code, text: t };
}

/**
 * The <Response> element as {attributes, children by tag}, children in document order. A Get of
 * every owned host is one answer (100,000 hosts: 26 MB); parsed as one tree it briefly took
 * ~280 MB of heap for 39 MB of result, so the children are parsed one at a time and only their
 * fields are kept. Documents the splitter does not understand (comments, CDATA, processing
 * instructions inside) are parsed whole, as before.
 */
function parseRoot(xml: string, ctx: XgErrorContext, onChild?: ChildSink): Record<string, unknown> {
  try {
    return splitRoot(xml, ctx, onChild);
  } catch (err) {
    if (err instanceof XgTransportError) throw err;
    // fast-xml-parser's own limits (nesting depth) end here: a bad answer, not a crash.
    throw badResponse('malformed XML', ctx);
  }
}

/** Receives a top-level child instead of the root keeping it; returns false to keep it after all. */
type ChildSink = (tag: string, value: unknown) => boolean;

function splitRoot(xml: string, ctx: XgErrorContext, onChild?: ChildSink): Record<string, unknown> {
  // The <Response> start tag must be the first thing after the declaration.
  const open = /^(?:<\?xml[^>]*\?>)?\s*<Response\b[^>]*?(\/?)>/.exec(xml);
  if (!open || open[1] === '/') return parseWhole(xml, ctx);
  const start = open[0].length;
  const end = xml.lastIndexOf('</Response>');
  if (end < start || /<[!?]/.test(xml.slice(start, end))) return parseWhole(xml, ctx);
  const root: Record<string, unknown> = {};
  const head = parser.parse(open[0].slice(open[0].indexOf('<Response')).replace(/>$/, '/>')) as Record<string, unknown>;
  const attrs = head['Response'];
  if (attrs && typeof attrs === 'object') Object.assign(root, attrs);
  const add = (tag: string, value: unknown): void => {
    if (onChild?.(tag, value)) return;
    const prev = root[tag];
    if (prev === undefined) root[tag] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else root[tag] = [prev, value];
  };
  // Top-level children only: the document is valid XML without comments, CDATA or PIs, so tags
  // can be counted.
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)(?:\s[^>]*?)?(\/?)>/g;
  tag.lastIndex = start;
  let depth = 0;
  let from = -1;
  let name = '';
  for (let m = tag.exec(xml); m && m.index < end; m = tag.exec(xml)) {
    if (m[1] === '/') {
      depth--;
      if (depth === 0) {
        const piece = parser.parse(xml.slice(from, m.index + m[0].length)) as Record<string, unknown>;
        add(name, piece[name] ?? '');
      }
    } else if (m[3] === '/') {
      if (depth === 0) add(m[2] as string, (parser.parse(m[0]) as Record<string, unknown>)[m[2] as string] ?? '');
    } else {
      if (depth === 0) {
        from = m.index;
        name = m[2] as string;
      }
      depth++;
    }
  }
  if (depth !== 0) return parseWhole(xml, ctx);
  return root;
}

function parseWhole(xml: string, ctx: XgErrorContext): Record<string, unknown> {
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml) as Record<string, unknown>;
  } catch {
    throw badResponse('malformed XML', ctx);
  }
  const root = doc['Response'];
  if (!root || typeof root !== 'object' || Array.isArray(root)) throw badResponse('root element is not <Response>', ctx);
  return root as Record<string, unknown>;
}

/** A child of <Response> that is an entity answer, not an attribute, the status or the login result. */
const isEntityTag = (tag: string): boolean => !(tag.startsWith('@_') || tag === 'Status' || tag === 'Login' || tag === '#text');

/**
 * Parse a response body into its three levels; throws XgTransportError when it is not an XG answer.
 * With `onEntity`, entities are handed over one at a time as they are parsed (before the Login
 * result is known: the caller must drop what it gathered when checkEnvelope throws) and
 * `entities` stays empty: a Get of 100,000 hosts then never holds 100,000 parsed objects at once.
 * `onEntity` must not throw (an exception would be reported as malformed XML). The body's size is
 * capped before it gets here, by the dispatcher (tls.ts maxResponseBytes).
 */
export function parseResponse(body: string, ctx: XgErrorContext = {}, onEntity?: (e: EntityResult) => void): XgResponse {
  const xml = clean(body);
  if (xml === '') throw badResponse('no XML document in body', ctx);
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) {
    throw badResponse('document type declarations are refused', ctx, false, 'XG_XML_REFUSED');
  }
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw badResponse(`malformed XML (${valid.err.msg} at line ${valid.err.line})`, ctx);
  const out: XgResponse = { entities: [] };
  const emit = onEntity ?? ((e: EntityResult) => void out.entities.push(e));
  const entity = (tag: string, value: unknown): void => {
    for (const item of toArray(value)) {
      const fields: Record<string, unknown> = item && typeof item === 'object' ? (item as Record<string, unknown>) : {};
      const st = parseStatus(fields['Status']);
      emit(st ? { tag, status: st, fields } : { tag, fields });
    }
  };
  // Streamed only on request: the children then come in document order, whereas the root
  // groups them by tag (and the whole-document fallback does too).
  const r = parseRoot(
    xml,
    ctx,
    onEntity &&
      ((tag, value) => {
        if (!isEntityTag(tag)) return false;
        entity(tag, value);
        return true;
      }),
  );
  const apiVersion = r['@_APIVersion'];
  if (typeof apiVersion === 'string') out.apiVersion = apiVersion;
  const status = parseStatus(r['Status']);
  if (status) out.status = status;
  const login = r['Login'];
  if (login !== undefined) {
    const l = (Array.isArray(login) ? login[0] : login) as unknown;
    const s =
      l && typeof l === 'object' ? ((l as Record<string, unknown>)['status'] ?? (l as Record<string, unknown>)['Status']) : undefined;
    out.login = text(Array.isArray(s) ? s[0] : s) ?? '';
  }
  // Documents parsed whole (see splitRoot) still hold their entities here.
  for (const [tag, value] of Object.entries(r)) {
    if (isEntityTag(tag)) entity(tag, value);
  }
  return out;
}

/**
 * The first two levels, in order: a Status under Response (the request was refused as a whole),
 * then the Login result. Throws the mapped error; returns normally only when the login succeeded.
 */
export function checkEnvelope(resp: XgResponse, ctx: XgErrorContext = {}): void {
  if (resp.status && !isSuccessStatus(resp.status.code)) {
    throw errorForStatus(resp.status.code, resp.status.text, { ...ctx, op: ctx.op ?? 'request' });
  }
  if (resp.login === undefined) throw badResponse('no Login result', ctx);
  if (!/^authentication successful/i.test(resp.login.trim())) {
    const err = errorForStatus(undefined, resp.login || 'Authentication Failure', { ...ctx, op: 'login' });
    throw err.code === 'XG_AUTH' ? err : errorForStatus(undefined, 'Authentication Failure', { ...ctx, op: 'login' });
  }
}

/** Zero-records answers (both spellings, §4.5): an empty Get result, not an error. */
export function isZeroRecords(status: XgStatus | undefined): boolean {
  return status !== undefined && status.code === undefined && /records\s+zero/i.test(status.text);
}

// ---------------------------------------------------------------- decoding objects

/** A host as read back, with every field needed to resend it whole. */
export type RawHost = HostFields;

export interface RawGroup {
  name: string;
  description: string;
  family: AddressFamily;
  members: string[];
}

function family(v: unknown): AddressFamily {
  return text(v) === 'IPv6' ? 'IPv6' : 'IPv4';
}

function names(list: unknown, child: string): string[] {
  const out: string[] = [];
  for (const l of toArray(list)) {
    if (!l || typeof l !== 'object') continue;
    for (const n of toArray((l as Record<string, unknown>)[child])) {
      const t = text(n);
      if (t) out.push(t);
    }
  }
  return out;
}

function opt(fields: Record<string, unknown>, key: string): string | undefined {
  return fields[key] === undefined ? undefined : text(fields[key]);
}

export function decodeHost(fields: Record<string, unknown>): RawHost | undefined {
  const name = opt(fields, 'Name');
  if (!name) return undefined;
  const h: RawHost = {
    name,
    family: family(fields['IPFamily']),
    hostType: opt(fields, 'HostType') ?? 'IP',
    groups: names(fields['HostGroupList'], 'HostGroup'),
  };
  const map: Array<[keyof RawHost, string]> = [
    ['ipAddress', 'IPAddress'],
    ['subnet', 'Subnet'],
    ['startIp', 'StartIPAddress'],
    ['endIp', 'EndIPAddress'],
    ['listOfIps', 'ListOfIPAddresses'],
    ['description', 'Description'],
  ];
  for (const [k, tag] of map) {
    const v = opt(fields, tag);
    if (v !== undefined) (h as unknown as Record<string, unknown>)[k] = v;
  }
  return h;
}

export function decodeGroup(fields: Record<string, unknown>): RawGroup | undefined {
  const name = opt(fields, 'Name');
  if (!name) return undefined;
  return {
    name,
    description: opt(fields, 'Description') ?? '',
    family: family(fields['IPFamily']),
    members: names(fields['HostList'], 'Host'),
  };
}
