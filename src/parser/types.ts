/**
 * The events the sidecar derives from fail2ban's own log. This file is the contract between
 * src/parser (producer) and src/pipeline (consumer); change it only with both sides in view.
 */
import type { AddressFamily } from '../core/address.js';

export type EventType =
  | 'ban' // "[jail] Ban ID"
  | 'unban' // "[jail] Unban ID" (may be a stop-unban: see pipeline suspension rules)
  | 'restore-ban' // "[jail] Restore Ban ID" (0.10+, ban re-applied from fail2ban's database)
  | 'repeal-ban' // "[jail] Repeal Ban ID" (1.1.1+, unban caused by a stop: a suspension)
  | 'already-banned' // "[jail] ID already banned"
  | 'jail-start' // "Jail 'jail' started"
  | 'jail-stop' // "Jail 'jail' stopped"
  | 'server-start' // "Starting Fail2ban vX" (0.10+) / "Changed logging target to … for Fail2ban vX" (0.9)
  | 'server-stopping' // "Shutdown in progress..." / "Stopping all jails": stop-unbans follow
  | 'server-stop' // "Exiting Fail2ban"
  | 'log-reopened'; // "rollover performed on PATH" / "flush performed on PATH"

export interface F2bEvent {
  type: EventType;
  /** Time stamp exactly as written ("2026-11-25 04:39:52,876"); undefined for transports without one. */
  time?: string;
  /** ISO-8601 local time without offset ("2026-11-25T04:39:52.876"): fail2ban writes server-local time. */
  isoTime?: string;
  /** fail2ban-server PID from the header, when the format carries one. */
  pid?: number;
  /**
   * The HOST field of a syslog-format line (rsyslog file, journalctl): in a combined file of many
   * hosts it names the line's source. Undefined for transports without one.
   */
  host?: string;
  jail?: string;
  /**
   * Normalised address: IPv4 dotted without leading zeros, IPv6 compressed lower case,
   * IPv4-mapped IPv6 as IPv4; a network keeps its prefix ("198.51.100.0/24", "2001:db8:1::/64").
   */
  ip?: string;
  family?: AddressFamily;
  /** fail2ban version, on server-start. */
  version?: string;
  /** The raw line (first physical line of the record). */
  raw: string;
}

export type ParseResult =
  | { kind: 'event'; event: F2bEvent }
  /** Looked like an event (right header, right verb) but the ID is not a valid IP/CIDR. */
  | { kind: 'rejected'; reason: string; raw: string; jail?: string; id?: string }
  | { kind: 'none' };
