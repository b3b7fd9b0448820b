/**
 * Every point the reference (sophos-xg-api.md §11) could not settle, as a switch. The defaults are
 * the reference's recommended emulator behaviour (§9); tests flip them to prove the client copes
 * with each firmware variant.
 */
export interface Quirks {
  /** §11.3: SFOS 22 spelling vs the older 19.x spelling of the code-less zero-records Status. */
  zeroRecordsText: 'No. of records Zero.' | 'Number of records Zero.';
  /** §11.9: Remove of an IPHost that does not exist (528 measured by janweis; 526 elsewhere). */
  removeMissingHostCode: 528 | 526;
  /** Remove of an IPHostGroup that does not exist (not measured; follows the IPHost code path by default). */
  removeMissingGroupCode: 528 | 526;
  /** §11.8: Remove of an IPHost that is a group member or used by a rule. */
  removeReferencedHostCode: 510 | 504 | 509;
  /** Remove of an IPHostGroup used by a firewall rule (GUI map: 504 HGFirewallRuleExists). */
  removeReferencedGroupCode: 504 | 510;
  /** Update of a name that does not exist. */
  updateMissingCode: 500 | 526;
  /** §11.10: update whose HostList / HostGroupList names an object that does not exist. */
  updateMissingMemberCode: 500 | 501;
  /** §11.6: Set without an operation attribute. */
  setWithoutOperation: 'upsert' | 'add';
  /** Reproduce the measured bug: Remove of an IPHostGroup carrying a HostList empties and corrupts it. */
  removeWithHostListCorrupts: boolean;
  /** §11.4: whether `Foo` and `foo` are different objects. */
  caseSensitiveNames: boolean;
  /** §11.4: 60 per the docs, 50 per janweis. */
  maxNameLength: number;
  /** §11.4: whether ':' (IPv6-derived names) is accepted in names. */
  colonInNames: boolean;
  /** §11.5: addresses per IPList object. */
  maxIpListAddresses: number;
  /** §11.7: 529 "There is no API Version" when the Request has no APIVersion attribute. */
  requireApiVersion: boolean;
  /** §11.13: prefix responses with NUL bytes and a blank line before the XML prolog. */
  leadingJunk: boolean;
}

export const DEFAULT_QUIRKS: Readonly<Quirks> = Object.freeze({
  zeroRecordsText: 'No. of records Zero.',
  removeMissingHostCode: 528,
  removeMissingGroupCode: 528,
  removeReferencedHostCode: 510,
  removeReferencedGroupCode: 504,
  updateMissingCode: 500,
  updateMissingMemberCode: 500,
  setWithoutOperation: 'upsert',
  removeWithHostListCorrupts: true,
  caseSensitiveNames: true,
  maxNameLength: 60,
  colonInNames: true,
  maxIpListAddresses: 1000,
  requireApiVersion: false,
  leadingJunk: false,
});

/** The generic texts real firmware sends (§5.2), keyed by code. */
export const STATUS_TEXT: Readonly<Record<number, string>> = Object.freeze({
  200: 'Configuration applied successfully.',
  500: 'Operation could not be performed on Entity.',
  501: 'Configuration parameters validation failed.',
  502: 'Operation failed. Entity having same name already exists.',
  503: 'Operation failed. Entity having same parameter details already exists.',
  504: 'Operation failed. Deleting entity referred by another entity.',
  509: 'Operation failed. Deleting entity referred by another entity.',
  510: 'Operation failed. Deleting entity referred by another entity.',
  526: 'Record does not exist.',
  528: 'Trying to update default entities which are not editable.',
  529: 'Input request file is Invalid',
  532: 'You need to enable the API Configuration.',
  534: 'API operations are not allowed from the requester IP address',
});

export const TEXT_MODULE_INVALID = 'Input request module is Invalid';
export const TEXT_NO_API_VERSION = 'There is no API Version';
