/**
 * Writes a synthetic but realistic fail2ban.log (1.0.2 file format) for benchmarks: mostly
 * `Found` lines as on a busy server, Ban/Unban/Increase Ban, `already banned`, action errors with
 * multi-line commands and tracebacks, occasional reloads and server restarts, IPv4 and IPv6.
 * Deterministic (seeded), so runs are comparable.
 */
import { openSync, writeSync, closeSync } from 'node:fs';

export interface GenStats {
  lines: number;
  /** `Ban` lines (not Restore Ban). */
  bans: number;
  /** Lines the sidecar's parser must report as events (ban family, jail and server lifecycle). */
  events: number;
}

const JAILS = ['sshd', 'postfix-sasl', 'nginx-http-auth', 'recidive', 'webapp-auth'];

export function generateLog(path: string, lines: number, seed = 42): GenStats {
  let x = seed >>> 0 || 1;
  const rnd = (): number => {
    // xorshift32: fast and good enough for a workload mix
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)] as T;
  const ip = (): string =>
    rnd() < 0.8
      ? `${1 + Math.floor(rnd() * 222)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${1 + Math.floor(rnd() * 254)}`
      : // compressed, lower case, as fail2ban prints IPv6 IDs
        `2001:db8:${(1 + Math.floor(rnd() * 65535)).toString(16)}::${(1 + Math.floor(rnd() * 65535)).toString(16)}`;

  let t = Date.UTC(2026, 0, 1);
  let pid = 1000;
  const stamp = (): string => {
    t += Math.floor(rnd() * 400);
    const d = new Date(t).toISOString(); // 2026-01-01T00:00:00.000Z
    return `${d.slice(0, 10)} ${d.slice(11, 19)},${d.slice(20, 23)}`;
  };
  const rec = (logger: string, level: string, msg: string): string =>
    `${stamp()} ${logger.padEnd(24)}[${pid}]: ${level.padEnd(7)} ${msg}\n`;

  const fd = openSync(path, 'w');
  let buf = '';
  let n = 0;
  let bans = 0;
  let events = 0;
  const recent: string[] = [];
  const emit = (s: string): void => {
    buf += s;
    n += s.split('\n').length - 1;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  };
  while (n < lines) {
    const r = rnd();
    const jail = pick(JAILS);
    if (r < 0.7) {
      emit(rec('fail2ban.filter', 'INFO', `[${jail}] Found ${ip()} - ${stamp().slice(0, 19)}`));
    } else if (r < 0.8) {
      const a = ip();
      recent.push(a);
      if (recent.length > 1000) recent.shift();
      bans++;
      events++;
      emit(rec('fail2ban.actions', 'NOTICE', `[${jail}] Ban ${a}`));
    } else if (r < 0.88) {
      events++;
      emit(rec('fail2ban.actions', 'NOTICE', `[${jail}] Unban ${recent.length ? pick(recent) : ip()}`));
    } else if (r < 0.9) {
      events++;
      emit(rec('fail2ban.actions', 'NOTICE', `[${jail}] ${ip()} already banned`));
    } else if (r < 0.94) {
      const a = ip();
      // bantime.increment: a repeat offender (observer lines around the Ban, as in the 1.0.2 capture)
      bans++;
      events++;
      emit(rec('fail2ban.observer', 'INFO', `[${jail}] Found ${a}, bad - ${stamp().slice(0, 19)}, 1 # -> 2.0, Ban`));
      emit(rec('fail2ban.actions', 'NOTICE', `[${jail}] Ban ${a}`));
      emit(rec('fail2ban.observer', 'INFO', `[${jail}] IP ${a} is bad: 1 # last ${stamp().slice(0, 19)} - incr 1h to 2h`));
      emit(rec('fail2ban.observer', 'NOTICE', `[${jail}] Increase Ban ${a} (2 # 2h -> ${stamp().slice(0, 19)})`));
    } else if (r < 0.975) {
      emit(rec('fail2ban.filter', 'INFO', `[${jail}] Ignore 127.0.0.1 by ignoreself rule`));
    } else if (r < 0.995) {
      // failing action: the Ban, a multi-line command echoing it, then the Failed-to-execute record
      const a = ip();
      bans++;
      events++;
      emit(rec('fail2ban.actions', 'NOTICE', `[${jail}] Ban ${a}`));
      emit(rec('fail2ban.utils', 'ERROR', `7f226f770030 -- exec: echo "about to ban ${a}"\necho "[${jail}] Ban ${a}" >&2; exit 1`));
      emit(rec('fail2ban.utils', 'ERROR', `7f226f770030 -- returned 1`));
      emit(
        rec(
          'fail2ban.actions',
          'ERROR',
          `Failed to execute ban jail '${jail}' action 'iptables' info 'ActionInfo({'ip': '${a}', 'family': 'inet4'})': Error banning ${a}`,
        ),
      );
    } else if (r < 0.998) {
      emit(rec('fail2ban.filter', 'ERROR', `Unable to open /var/log/auth.log`));
      emit(
        'Traceback (most recent call last):\n' +
          '  File "/usr/lib/python3/dist-packages/fail2ban/server/filter.py", line 1219, in getFailures\n' +
          '    has_content = container.open()\n' +
          "IsADirectoryError: [Errno 21] Is a directory: '/var/log/auth.log'\n",
      );
    } else if (r < 0.9995) {
      emit(rec('fail2ban.server', 'INFO', 'Reload all jails'));
      for (const j of JAILS) emit(rec('fail2ban.server', 'INFO', `Jail '${j}' reloaded`));
      emit(rec('fail2ban.server', 'INFO', 'Reload finished.'));
    } else {
      const last = recent.slice(-20);
      events += 2 + last.length + JAILS.length + 1 + 1 + JAILS.length + last.length;
      emit(rec('fail2ban.server', 'INFO', 'Shutdown in progress...'));
      emit(rec('fail2ban.server', 'INFO', 'Stopping all jails'));
      for (const a of last) emit(rec('fail2ban.actions', 'NOTICE', `[sshd] Unban ${a}`));
      for (const j of JAILS) emit(rec('fail2ban.jail', 'INFO', `Jail '${j}' stopped`));
      emit(rec('fail2ban.server', 'INFO', 'Exiting Fail2ban'));
      pid++;
      emit(rec('fail2ban.server', 'INFO', '-'.repeat(50)));
      emit(rec('fail2ban.server', 'INFO', 'Starting Fail2ban v1.0.2'));
      for (const j of JAILS) emit(rec('fail2ban.jail', 'INFO', `Jail '${j}' started`));
      for (const a of last) emit(rec('fail2ban.actions', 'NOTICE', `[sshd] Restore Ban ${a}`));
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
  return { lines: n, bans, events };
}
