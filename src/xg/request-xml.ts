/**
 * Building the XG's request documents with fast-xml-parser's XMLBuilder. Pure: no I/O, no clock.
 *
 * Documents are plain objects serialised in one place, so every value — credentials, names,
 * filter values — is escaped by the builder (the five predefined entities); no caller can splice
 * raw text into a document (an unescaped `&` or `<` in a password turns the whole request into a
 * 529 — sophos-firewall-sdk issue #101).
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { AddressFamily } from '../core/address.js';

/**
 * The reference (§6.1) calls APIVersion optional but one client met 529 "There is no API Version"
 * without it. 1905.1 (SFOS 19.5) is old enough for every firmware that has the IPHost shape used
 * here (identical from 17 to 22); the client switches to the version the firewall reports.
 */
export const DEFAULT_API_VERSION = '1905.1';

/** One entity element, `{ Tag: content }`; attributes are `@_name` keys, text beside them `#text`. */
export type XmlNode = Readonly<Record<string, unknown>>;

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  // `<Description/>`, `<HostGroupList/>`: an empty element is written short, as the XG does.
  suppressEmptyNode: true,
  processEntities: true,
});

/** Serialises one element (tests and the emulator fixture compare documents built this way). */
export function toXml(node: XmlNode): string {
  return builder.build(node) as string;
}

export type Operation =
  | { kind: 'get'; entities: readonly XmlNode[] }
  | { kind: 'set'; operation: 'add' | 'update'; entities: readonly XmlNode[] }
  | { kind: 'remove'; entities: readonly XmlNode[] };

export interface RequestSpec {
  username: string;
  password: string;
  apiVersion?: string;
  operations?: Operation[];
}

/**
 * Entities of one block, grouped by tag (an object holds each tag once). Results come back one
 * per entity in the same order per tag, which is how the transport matches them.
 */
function block(entities: readonly XmlNode[], attrs: Record<string, string> = {}): Record<string, unknown> {
  const out: Record<string, unknown[] | string> = { ...attrs };
  for (const e of entities) {
    for (const [tag, content] of Object.entries(e)) {
      const list = (out[tag] ??= []) as unknown[];
      list.push(content);
    }
  }
  return out;
}

export function buildRequest(spec: RequestSpec): string {
  const request: Record<string, unknown> = spec.apiVersion ? { '@_APIVersion': spec.apiVersion } : {};
  request['Login'] = { Username: spec.username, Password: spec.password };
  let last: string | undefined;
  for (const op of spec.operations ?? []) {
    const tag = op.kind === 'get' ? 'Get' : op.kind === 'remove' ? 'Remove' : 'Set';
    // An object holds each tag once, so blocks are written grouped by tag; refuse an order that
    // grouping would change (the firewall processes blocks in document order).
    if (tag !== last && request[tag] !== undefined) throw new RangeError(`${tag} blocks must be adjacent in one request`);
    last = tag;
    // An explicit operation always: firmware disagrees on what a bare Set means (§4.4).
    const b = op.kind === 'set' ? block(op.entities, { '@_operation': op.operation }) : block(op.entities);
    ((request[tag] ??= []) as unknown[]).push(b);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>${toXml({ Request: request })}`;
}

export interface HostFields {
  name: string;
  family: AddressFamily;
  /** IP | Network (created by us); IPRange/IPList are only ever resent as read. */
  hostType: string;
  ipAddress?: string;
  subnet?: string;
  startIp?: string;
  endIp?: string;
  listOfIps?: string;
  description?: string;
  groups: string[];
}

/** An IPHost element for add/update: every field is sent because update replaces the object. */
export function ipHostXml(h: HostFields): XmlNode {
  return {
    IPHost: {
      Name: h.name,
      IPFamily: h.family,
      HostType: h.hostType,
      IPAddress: h.ipAddress,
      Subnet: h.subnet,
      StartIPAddress: h.startIp,
      EndIPAddress: h.endIp,
      ListOfIPAddresses: h.listOfIps,
      // An empty HostGroupList is how a host leaves its last group (full replace).
      HostGroupList: h.groups.length ? { HostGroup: h.groups } : '',
      Description: h.description ?? '',
    },
  };
}

export interface GroupFields {
  name: string;
  description: string;
  family: AddressFamily;
}

/** A group element for creation only: the client never rewrites a group's member list. */
export function ipHostGroupXml(g: GroupFields): XmlNode {
  return { IPHostGroup: { Name: g.name, Description: g.description, IPFamily: g.family } };
}

export type Criteria = '=' | '!=' | 'like';

export interface Filter {
  key: string;
  criteria: Criteria;
  value: string;
}

export function getXml(entity: string, filter?: Filter): XmlNode {
  if (!filter) return { [entity]: '' };
  return { [entity]: { Filter: { key: { '@_name': filter.key, '@_criteria': filter.criteria, '#text': filter.value } } } };
}

/** One object per entity element (several Names in one element give ambiguous statuses, §4.6). */
export function removeXml(entity: string, name: string): XmlNode {
  return { [entity]: { Name: name } };
}
