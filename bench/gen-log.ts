/**
 * Writes a synthetic but realistic fail2ban.log (1.0.2 file format) for benchmarks: mostly
 * `Found` lines as on a busy server, Ban/Unban/Increase Ban, `already banned`, action errors with
 * multi-line commands and tracebacks, occasional reloads and server restarts, IPv4 and IPv6.
 * Deterministic (seeded), so runs are comparable.
 */
import { openSync, writeSync, closeSync } from 'node:fs';

export interface GenStats {
  lines: number;
  bans: number;
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
      : `2001:db8:${Math.floor(rnd() * 65536).toString(16)}::${Math.floor(rnd() * 65536).toString(16)}`;

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
      emit(rec('fail2ban.actions', 'NOTICE', `[${jail}] Ban ${a}`));
    } else if (r < 0.88) {
      emit(rec('fail2ban.actions', 'NOTICE', `[${jail}] Unban ${recent.length ? pick(recent) : ip()}`));
    } else if (r < 0.9) {
      emit(rec('fail2ban.actions', 'NOTICE', `[${jail}] ${ip()} already banned`));
    } else if (r < 0.94) {
      const a = ip();
      emit(rec('fail2ban.observer', 'INFO', `[${jail}] Found ${a}, bad - ${stamp().slice(0, 19)}, 1 # -> 2.0, Ban`));
      emit(rec('fail2ban.observer', 'NOTICE', `[${jail}] Increase Ban ${a} (2 # 2h -> ${stamp().slice(0, 19)})`));
    } else if (r < 0.975) {
      emit(rec('fail2ban.filter', 'INFO', `[${jail}] Ignore 127.0.0.1 by ignoreself rule`));
    } else if (r < 0.995) {
      // failing action: multi-line command, then the Failed-to-execute record
      const a = ip();
      emit(rec('fail2ban.utils', 'ERROR', `7f226f770030 -- exec: echo "about to ban ${a}"\necho "[${jail}] Ban ${a}" >&2; exit 1`));
      emit(rec('fail2ban.utils', 'ERROR', `7f226f770030 -- returned 1`));
      emit(rec('fail2ban.actions', 'ERROR', `Failed to execute ban jail '${jail}' action 'iptables' info 'ActionInfo({'ip': '${a}', 'family': 'inet4'})': Error banning ${a}`));
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
      emit(rec('fail2ban.server', 'INFO', 'Shutdown in progress...'));
      emit(rec('fail2ban.server', 'INFO', 'Stopping all jails'));
      for (const a of recent.slice(-20)) emit(rec('fail2ban.actions', 'NOTICE', `[sshd] Unban ${a}`));
      for (const j of JAILS) emit(rec('fail2ban.jail', 'INFO', `Jail '${j}' stopped`));
      emit(rec('fail2ban.server', 'INFO', 'Exiting Fail2ban'));
      pid++;
      emit(rec('fail2ban.server', 'INFO', '-'.repeat(50)));
      emit(rec('fail2ban.server', 'INFO', 'Starting Fail2ban v1.0.2'));
      for (const j of JAILS) emit(rec('fail2ban.jail', 'INFO', `Jail '${j}' started`));
      for (const a of recent.slice(-20)) emit(rec('fail2ban.actions', 'NOTICE', `[sshd] Restore Ban ${a}`));
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
  return { lines: n, bans };
}
