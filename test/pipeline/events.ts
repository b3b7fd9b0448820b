// Builders for pipeline inputs, so tables read like fail2ban logs.
import type { AddressFamily } from '../../src/core/address.js';
import type { EventType, F2bEvent } from '../../src/parser/types.js';

function fam(ip: string): AddressFamily {
  return ip.includes(':') ? 'IPv6' : 'IPv4';
}

export function ev(type: EventType, jail?: string, ip?: string, pid = 100): F2bEvent {
  const e: F2bEvent = { type, raw: `${type} ${jail ?? ''} ${ip ?? ''}`.trim(), pid };
  if (jail !== undefined) e.jail = jail;
  if (ip !== undefined) {
    e.ip = ip;
    e.family = fam(ip);
  }
  return e;
}

export const ban = (jail: string, ip: string, pid?: number): F2bEvent => ev('ban', jail, ip, pid);
export const unban = (jail: string, ip: string, pid?: number): F2bEvent => ev('unban', jail, ip, pid);
export const restore = (jail: string, ip: string, pid?: number): F2bEvent => ev('restore-ban', jail, ip, pid);
export const jailStop = (jail: string, pid?: number): F2bEvent => ev('jail-stop', jail, undefined, pid);
export const jailStart = (jail: string, pid?: number): F2bEvent => ev('jail-start', jail, undefined, pid);
export const serverStart = (pid: number): F2bEvent => ev('server-start', undefined, undefined, pid);
export const serverStopping = (pid?: number): F2bEvent => ev('server-stopping', undefined, undefined, pid);
export const serverStop = (pid?: number): F2bEvent => ev('server-stop', undefined, undefined, pid);
