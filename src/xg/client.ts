/**
 * FirewallPort over the Sophos XG XML API (POST form field `reqxml`, reference §1, §10).
 *
 * Membership is always written from the OWNED HOST's side (its HostGroupList), never by
 * rewriting a group's HostList: a group is shared with admins and other sidecars, and an update
 * replaces the whole object, so a stale group read would silently drop their members. A host
 * update is a full replace too, so it resends every field read back plus every group.
 *
 * Every operation re-reads before it writes (a timed-out write may have been applied), so each is
 * idempotent; the client classifies errors (retryable or not) and leaves retrying to the pipeline.
 */
import { performance } from 'node:perf_hooks';
import { request, type Dispatcher } from 'undici';
import type { FirewallPort, GroupRef, GroupState, OwnedHost } from './port.js';
import { hostName, isOwnedName } from './naming.js';
import { addressFields, addressOfHost, canonical, familyOf } from './address.js';
import {
  XgConflictError,
  XgError,
  XgNotFoundError,
  XgOperationError,
  XgTimeoutError,
  XgTransportError,
  XgValidationError,
  errorForStatus,
  isSuccessStatus,
  type XgErrorContext,
} from './errors.js';
import { MASK, secretMasker, silentLogger, type XgLogger } from './log.js';
import {
  DEFAULT_API_VERSION,
  MAX_RESPONSE_BYTES,
  buildRequest,
  checkEnvelope,
  decodeGroup,
  decodeHost,
  getXml,
  ipHostGroupXml,
  ipHostXml,
  isZeroRecords,
  parseResponse,
  removeXml,
  text,
  type Criteria,
  type EntityResult,
  type Operation,
  type RawGroup,
  type RawHost,
  type XgResponse,
  type XgStatus,
  type Xml,
} from './xml.js';

export const MANAGED_DESCRIPTION = 'Managed by f2b-sophosxg';
export const API_PATH = '/webconsole/APIController';

export interface RequestInfo {
  /** login, get, add, update, remove */
  op: string;
  /** Number of entity elements in the request. */
  entities: number;
  durationMs: number;
  /** 'ok', or the error code of the failure. */
  outcome: string;
}

export interface XgClientOptions {
  /** https://HOST:4444 (the API path is appended when the URL has none) or the full APIController URL. */
  url: string;
  username: string;
  password: string;
  hostPrefix: string;
  /** The firewall's keep-alive pool (src/xg/tls.ts buildDispatcher); owned and closed by the caller. */
  dispatcher: Dispatcher;
  /** Entities per Set/Remove request (iNoels/RIPEToSophosXGS sends 50). */
  batchSize?: number;
  requestTimeoutMs?: number;
  /** Fixed APIVersion; when unset the client starts with DEFAULT_API_VERSION and then sends what the firewall reports. */
  apiVersion?: string;
  log?: XgLogger;
  onRequest?: (info: RequestInfo) => void;
  maxResponseBytes?: number;
}

type WriteKind = 'add' | 'update' | 'remove';

interface WriteItem {
  name: string;
  xml: Xml;
}

interface WriteResult {
  name: string;
  status?: XgStatus;
  error?: XgError;
}

const NOT_FOUND_OR_REFERENCED = new Set([504, 509, 510, 526, 528]);

/** TLS verification failures: retrying cannot fix them, an admin must fix the trust settings. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function errCode(e: unknown): string | undefined {
  const c = e && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  return typeof c === 'string' ? c : undefined;
}

/** Several per-object failures become one error: the most severe first, the rest named in its message. */
function combine(errors: XgError[]): XgError | undefined {
  if (errors.length === 0) return undefined;
  const sorted = [...errors].sort((a, b) => Number(a.retryable) - Number(b.retryable));
  const first = sorted[0] as XgError;
  if (sorted.length > 1) {
    const rest = sorted.slice(1, 6).map((e) => `${e.xgStatus ?? e.code} on ${e.objectName ?? '?'}`);
    first.message += `; and ${sorted.length - 1} more failure(s): ${rest.join(', ')}${sorted.length > 6 ? ', …' : ''}`;
  }
  return first;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function apiUrl(url: string): string {
  const u = new URL(url);
  if (u.pathname === '' || u.pathname === '/') u.pathname = API_PATH;
  return u.toString();
}

export class XgClient implements FirewallPort {
  private readonly url: string;
  private readonly prefix: string;
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly log: XgLogger;
  private readonly mask: (s: string) => string;
  private apiVersion: string;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: XgClientOptions) {
    if (!opts.hostPrefix) throw new RangeError('hostPrefix must not be empty: it is what marks the objects this sidecar owns');
    this.url = apiUrl(opts.url);
    this.prefix = opts.hostPrefix;
    this.batchSize = Math.max(1, opts.batchSize ?? 50);
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.maxBytes = opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.log = opts.log ?? silentLogger;
    this.mask = secretMasker(opts.password);
    this.apiVersion = opts.apiVersion ?? DEFAULT_API_VERSION;
  }

  // ------------------------------------------------------------ FirewallPort

  checkLogin(): Promise<void> {
    return this.serial(async () => {
      await this.call('login', [], 0);
    });
  }

  ensureGroup(group: GroupRef): Promise<void> {
    return this.serial(async () => {
      const existing = await this.getGroup(group.name);
      if (existing) return this.checkFamily(existing, group);
      const [res] = await this.write('add', 'IPHostGroup', [
        { name: group.name, xml: ipHostGroupXml({ name: group.name, description: MANAGED_DESCRIPTION, family: group.family }) },
      ]);
      if (!res?.error) {
        this.log.info(`created IP host group ${group.name} (${group.family})`);
        return;
      }
      // 502: created meanwhile (another sidecar, or our own timed-out attempt). Fine if the family is right.
      if (res.status?.code === 502) {
        const now = await this.getGroup(group.name);
        if (now) return this.checkFamily(now, group);
      }
      throw res.error;
    });
  }

  readGroup(group: GroupRef): Promise<GroupState> {
    return this.serial(async () => {
      const raw = await this.getGroup(group.name);
      if (!raw) return { exists: false, owned: new Set<string>(), foreign: 0 };
      const owned = await this.ownedAddresses();
      const state: GroupState = { exists: true, owned: new Set(), foreign: 0 };
      for (const member of raw.members) {
        const address = owned.get(member);
        if (address !== undefined) state.owned.add(address);
        else state.foreign++;
      }
      return state;
    });
  }

  addToGroup(group: GroupRef, addresses: readonly string[]): Promise<void> {
    return this.serial(() => this.add(group, addresses));
  }

  removeFromGroup(group: GroupRef, addresses: readonly string[]): Promise<void> {
    return this.serial(() => this.remove(group, addresses));
  }

  listOwnedHosts(): Promise<OwnedHost[]> {
    return this.serial(async () => {
      const out: OwnedHost[] = [];
      for (const h of (await this.ownedByName()).values()) {
        const address = addressOfHost(h);
        if (address !== undefined) out.push({ name: h.name, address, family: h.family, groups: [...h.groups] });
      }
      return out;
    });
  }

  /** Waits for the operation in progress; the dispatcher belongs to whoever built it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue.catch(() => undefined);
  }

  // ------------------------------------------------------------ membership

  private async add(group: GroupRef, addresses: readonly string[]): Promise<void> {
    const wanted = new Map<string, string>(); // host name → address
    for (const a of new Set(addresses.map((x) => canonical(x) ?? x))) {
      const fam = familyOf(a);
      if (!fam) throw new XgValidationError(`not an IP address or network: ${a}`, { code: 'XG_BAD_ADDRESS', op: 'add', name: a });
      if (fam !== group.family) {
        throw new XgValidationError(`${fam} address ${a} cannot join ${group.family} group ${group.name}`, {
          code: 'XG_FAMILY_MISMATCH',
          op: 'add',
          name: a,
        });
      }
      wanted.set(hostName(this.prefix, a), a);
    }
    if (wanted.size === 0) return;

    const errors: XgError[] = [];
    // Optimistic: a banned address normally has no host yet (an unban deletes it), so create
    // first and read the owned hosts only when a name already exists (502). Reading them before
    // every batch cost one Get of the whole owned list per write: with 10,000 bans that read,
    // not the write, dominated a burst, and it added a round trip to every single ban.
    let owned = new Map<string, RawHost>();
    const creates: WriteItem[] = [];
    const updates: RawHost[] = [];
    for (const [name, address] of wanted) {
      const h = owned.get(name);
      if (!h) {
        creates.push({ name, xml: ipHostXml({ name, ...addressFields(address), description: MANAGED_DESCRIPTION, groups: [group.name] }) });
      } else if (this.sameAddress(h, address, errors) && !h.groups.includes(group.name)) {
        updates.push(h);
      }
    }

    const exists: string[] = [];
    for (const r of await this.write('add', 'IPHost', creates)) {
      if (!r.error) continue;
      const address = wanted.get(r.name) ?? r.name;
      if (r.status?.code === 502) exists.push(r.name);
      else if (r.status?.code === 503) errors.push(this.foreignHolder(group, address, r.status));
      else errors.push(r.error);
    }
    if (exists.length > 0) {
      // Created meanwhile (e.g. our own timed-out write was applied): re-read and join the group.
      owned = await this.ownedByName(new Set(exists));
      for (const name of exists) {
        const h = owned.get(name);
        const address = wanted.get(name) ?? name;
        if (!h) {
          errors.push(
            new XgConflictError(`host name ${name} is taken by an object this sidecar cannot read as its own`, {
              code: 'XG_NAME_EXISTS',
              op: 'add',
              entity: 'IPHost',
              name,
            }),
          );
        } else if (this.sameAddress(h, address, errors) && !h.groups.includes(group.name)) {
          updates.push(h);
        }
      }
    }

    const items = updates.map((h) => ({ name: h.name, xml: ipHostXml({ ...h, groups: [...h.groups, group.name] }) }));
    for (const r of await this.write('update', 'IPHost', items)) if (r.error) errors.push(r.error);

    const err = combine(errors);
    if (!err) return;
    throw (await this.diagnoseGroup(group, errors)) ?? err;
  }

  private async remove(group: GroupRef, addresses: readonly string[]): Promise<void> {
    const unique = new Set(addresses.map((x) => canonical(x) ?? x));
    const owned = await this.ownedByName(new Set([...unique].map((a) => hostName(this.prefix, a))));
    const targets: RawHost[] = [];
    for (const a of unique) {
      const h = owned.get(hostName(this.prefix, a));
      if (!h) continue;
      if (addressOfHost(h) !== a) {
        this.log.warn(`host ${h.name} does not hold ${a} (it holds ${addressOfHost(h) ?? 'no address'}); left untouched`);
        continue;
      }
      targets.push(h);
    }
    const errors: XgError[] = [];
    const leaving = targets.filter((h) => h.groups.includes(group.name));
    const updated = await this.write(
      'update',
      'IPHost',
      leaving.map((h) => ({ name: h.name, xml: ipHostXml({ ...h, groups: h.groups.filter((g) => g !== group.name) }) })),
    );
    const failed = new Set<string>();
    const updateErrors = updated.filter((r) => r.error);
    if (updateErrors.length > 0) {
      // A host deleted or changed meanwhile (e.g. by our own timed-out earlier attempt) is not a failure.
      const now = await this.ownedByName(new Set(updateErrors.map((r) => r.name)));
      for (const r of updateErrors) {
        if (!now.get(r.name)?.groups.includes(group.name)) continue;
        errors.push(r.error as XgError);
        failed.add(r.name);
      }
    }
    // Only hosts now in no group are deleted (a member cannot be removed, and other groups keep theirs).
    const orphans = targets.filter((h) => !failed.has(h.name) && h.groups.every((g) => g === group.name));
    const unsure: WriteResult[] = [];
    for (const r of await this.write('remove', 'IPHost', orphans.map((h) => ({ name: h.name, xml: removeXml('IPHost', h.name) })))) {
      if (!r.error) continue;
      if (r.status?.code !== undefined && NOT_FOUND_OR_REFERENCED.has(r.status.code)) unsure.push(r);
      else errors.push(r.error);
    }
    if (unsure.length > 0) {
      // These codes mean "referenced" or "not found" depending on firmware (§11.8, §11.9): a Get decides.
      const now = await this.ownedByName(new Set(unsure.map((r) => r.name)));
      for (const r of unsure) {
        if (!now.has(r.name)) continue;
        this.log.warn(
          `host ${r.name} left the group ${group.name} but could not be deleted (XG ${r.status?.code} "${r.status?.text ?? ''}"): ` +
            'it is still referenced (e.g. by a firewall rule); left in place, it blocks nothing through this group',
        );
      }
    }
    const err = combine(errors);
    if (err) throw err;
  }

  private sameAddress(h: RawHost, address: string, errors: XgError[]): boolean {
    if (addressOfHost(h) === address) return true;
    errors.push(
      new XgConflictError(`host ${h.name} exists but holds ${addressOfHost(h) ?? 'no usable address'} instead of ${address}`, {
        code: 'XG_HOST_MISMATCH',
        op: 'add',
        entity: 'IPHost',
        name: h.name,
        hint: 'left untouched; delete or fix it on the firewall',
      }),
    );
    return false;
  }

  /**
   * 503: an object this sidecar does not own already holds the address. Adding *that* object to
   * the group would rewrite it (full replace of someone else's host), so it is reported instead.
   */
  private foreignHolder(group: GroupRef, address: string, status: XgStatus): XgError {
    return new XgConflictError(`address ${address} is already held by an IP host this sidecar does not own`, {
      code: 'XG_FOREIGN_HOLDER',
      op: 'add',
      entity: 'IPHost',
      name: hostName(this.prefix, address),
      ...(status.code !== undefined ? { xgStatus: status.code } : {}),
      xgText: status.text,
      hint: `that object was left untouched and ${address} is NOT blocked through ${group.name}; add it to the group by hand or delete it`,
    });
  }

  /** A write refused with 500/501/526 most often means the group is missing or has the other family. */
  private async diagnoseGroup(group: GroupRef, errors: XgError[]): Promise<XgError | undefined> {
    if (!errors.some((e) => e instanceof XgValidationError || e instanceof XgOperationError || e instanceof XgNotFoundError)) {
      return undefined;
    }
    const raw = await this.getGroup(group.name);
    if (!raw) {
      return new XgNotFoundError(`IP host group ${group.name} does not exist`, {
        code: 'XG_GROUP_MISSING',
        op: 'add',
        entity: 'IPHostGroup',
        name: group.name,
        hint: 'ensureGroup must run first',
        cause: errors[0],
      });
    }
    try {
      this.checkFamily(raw, group);
    } catch (e) {
      return e as XgError;
    }
    return undefined;
  }

  private checkFamily(raw: RawGroup, group: GroupRef): void {
    if (raw.family === group.family) return;
    throw new XgValidationError(`IP host group ${group.name} exists with family ${raw.family}, expected ${group.family}`, {
      code: 'XG_GROUP_FAMILY_MISMATCH',
      entity: 'IPHostGroup',
      name: group.name,
      hint: 'use a separate group per address family; the client never rewrites an existing group',
    });
  }

  // ------------------------------------------------------------ reads

  /**
   * Owned hosts by name; with `only`, just those names. Entities are decoded as they are parsed
   * and dropped unless kept: the full list is one answer of every owned host (100,000: 26 MB).
   */
  private async ownedByName(only?: ReadonlySet<string>): Promise<Map<string, RawHost>> {
    const out = new Map<string, RawHost>();
    await this.forEachObject('IPHost', { key: 'Name', criteria: 'like', value: this.prefix }, (f) => {
      if (only && !only.has(text(f['Name']) ?? '')) return;
      const h = this.ownedHost(f);
      if (h) out.set(h.name, h);
    });
    return out;
  }

  /** Owned host name → the address it holds: what reading a group back needs, and no more. */
  private async ownedAddresses(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    await this.forEachObject('IPHost', { key: 'Name', criteria: 'like', value: this.prefix }, (f) => {
      const h = this.ownedHost(f);
      const address = h && addressOfHost(h);
      if (h && address !== undefined) out.set(h.name, address);
    });
    return out;
  }

  /** The host in a Get answer's fields when it is one of ours. */
  private ownedHost(f: Record<string, unknown>): RawHost | undefined {
    const h = decodeHost(f);
    // Filters may be ignored by firmware (answer: everything), so ownership is decided here.
    return h && isOwnedName(this.prefix, h.name) && h.hostType !== 'System Host' ? h : undefined;
  }

  private async getGroup(name: string): Promise<RawGroup | undefined> {
    let found: RawGroup | undefined;
    await this.forEachObject('IPHostGroup', { key: 'Name', criteria: '=', value: name }, (f) => {
      const g = decodeGroup(f);
      if (g?.name === name) found ??= g;
    });
    return found;
  }

  /**
   * Calls `visit` with the fields of every `entity` in a Get answer. A filter the firmware
   * refuses (§4.5: "Transaction fail" and friends) is dropped and the Get repeated; `visit` may
   * then see an object twice, so callers collect by name.
   */
  private async forEachObject(
    entity: string,
    filter: { key: string; criteria: Criteria; value: string } | undefined,
    visit: (fields: Record<string, unknown>) => void,
  ): Promise<void> {
    let refused: XgStatus | undefined;
    await this.call('get', [{ kind: 'get', entities: [getXml(entity, filter)] }], 1, { entity }, (e) => {
      if (e.tag !== entity || refused) return;
      if (!e.status) return visit(e.fields);
      if (isZeroRecords(e.status) || (isSuccessStatus(e.status.code) && e.fields['Name'] === undefined)) return;
      refused = e.status;
    });
    if (!refused) return;
    if (filter) {
      this.log.debug(`Get ${entity} with a filter answered "${refused.text}"; reading without filter`);
      return this.forEachObject(entity, undefined, visit);
    }
    throw errorForStatus(refused.code, refused.text, { op: 'get', entity });
  }

  // ------------------------------------------------------------ writes and transport

  private async write(kind: WriteKind, entity: string, items: WriteItem[]): Promise<WriteResult[]> {
    const results: WriteResult[] = [];
    for (const batch of chunk(items, this.batchSize)) {
      const op: Operation =
        kind === 'remove'
          ? { kind: 'remove', entities: batch.map((i) => i.xml) }
          : { kind: 'set', operation: kind, entities: batch.map((i) => i.xml) };
      const resp = await this.call(kind, [op], batch.length, { entity });
      const answers = resp.entities.filter((e) => e.tag === entity);
      batch.forEach((item, i) => {
        const status = answers[i]?.status;
        const ctx: XgErrorContext = { op: kind, entity, name: item.name };
        if (status && isSuccessStatus(status.code)) {
          results.push({ name: item.name, status });
        } else if (!status) {
          // A missing Status is not success (a silently dropped update was measured on SFOS 22).
          const error = new XgOperationError('no result for this object in the response', { ...ctx, code: 'XG_NO_STATUS', retryable: true });
          results.push({ name: item.name, error });
        } else {
          results.push({ name: item.name, status, error: errorForStatus(status.code, status.text, ctx) });
        }
      });
    }
    return results;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new XgTransportError('client is closed', { code: 'XG_CLOSED', retryable: false }));
    // Whole operations, not just requests, run one at a time: two interleaved read-modify-writes of
    // the same host would each resend a HostGroupList missing the other's group.
    const run = this.queue.then(fn, fn);
    // The queue must not hold the last result: a group read back holds every owned address, and
    // would stay in memory until the next operation (at 100,000 addresses, ~8 MB).
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async call(
    op: string,
    operations: Operation[],
    entities: number,
    ctx: XgErrorContext = {},
    onEntity?: (e: EntityResult) => void,
  ): Promise<XgResponse> {
    const started = performance.now();
    const context: XgErrorContext = { op, ...ctx };
    let outcome = 'ok';
    try {
      const spec = { username: this.opts.username, apiVersion: this.apiVersion, operations };
      const reqxml = buildRequest({ ...spec, password: this.opts.password });
      this.log.debug(`XG request ${op}: ${this.mask(buildRequest({ ...spec, password: MASK }))}`);
      const body = await this.post(reqxml, context);
      this.log.debug(`XG response ${op}: ${this.mask(body.length > 4096 ? `${body.slice(0, 4096)}… (${body.length} chars)` : body)}`);
      const resp = parseResponse(body, context, this.maxBytes, onEntity);
      if (this.opts.apiVersion === undefined && resp.apiVersion && /^\d{3,4}\.\d+$/.test(resp.apiVersion)) {
        this.apiVersion = resp.apiVersion;
      }
      checkEnvelope(resp, context);
      return resp;
    } catch (e) {
      outcome = e instanceof XgError ? e.code : 'XG_UNKNOWN';
      throw e;
    } finally {
      this.opts.onRequest?.({ op, entities, durationMs: performance.now() - started, outcome });
    }
  }

  private async post(reqxml: string, ctx: XgErrorContext): Promise<string> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.timeoutMs);
    try {
      const res = await request(this.url, {
        method: 'POST',
        dispatcher: this.opts.dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/xml' },
        body: new URLSearchParams({ reqxml }).toString(),
        signal: ac.signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      const tooLarge = () =>
        new XgTransportError(`response larger than ${this.maxBytes} bytes refused`, { ...ctx, code: 'XG_RESPONSE_TOO_LARGE', retryable: false });
      // A declared length over the cap is refused before a byte of it is buffered.
      if (Number(res.headers['content-length'] ?? 0) > this.maxBytes) {
        res.body.destroy();
        throw tooLarge();
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of res.body) {
        const buf = c as Buffer;
        size += buf.length;
        if (size > this.maxBytes) {
          res.body.destroy();
          throw tooLarge();
        }
        chunks.push(buf);
      }
      if (res.statusCode !== 200) {
        throw new XgTransportError(`HTTP ${res.statusCode} from the firewall`, { ...ctx, code: 'XG_HTTP_STATUS' });
      }
      return Buffer.concat(chunks).toString('utf8');
    } catch (e) {
      if (e instanceof XgError) throw e;
      throw this.transportError(e, ac.signal.aborted, ctx);
    } finally {
      clearTimeout(timer);
    }
  }

  private transportError(e: unknown, aborted: boolean, ctx: XgErrorContext): XgError {
    const code = errCode(e);
    if (aborted || (code !== undefined && TIMEOUT_CODES.has(code))) {
      return new XgTimeoutError(`no complete answer from the firewall within ${this.timeoutMs} ms`, {
        ...ctx,
        cause: e,
        hint: 'a write may still have been applied; the next attempt re-reads first',
      });
    }
    const tlsCode = code ?? errCode((e as { cause?: unknown })?.cause);
    if (tlsCode !== undefined && TLS_CODES.has(tlsCode)) {
      return new XgTransportError(`the firewall certificate was refused (${tlsCode})`, {
        ...ctx,
        code: 'XG_TLS',
        retryable: false,
        cause: e,
        hint: 'configure caFile or fingerprint256 (or insecure) for this firewall',
      });
    }
    const why = e instanceof Error ? `${code ?? e.name}: ${e.message}` : String(e);
    return new XgTransportError(`cannot reach the firewall (${why})`, { ...ctx, cause: e });
  }
}
