/** The model's notes (things worth a log line that are not group changes), each at its level. */
import type { PipelineLogger } from './log.js';
import type { Note } from './model.js';
import type { OnceSet } from './once.js';

/**
 * Logs a note. A refused target is warned about once per address and reason (`once`): fail2ban
 * restores every ban at each restart, and the same never-block address would warn every time.
 */
export function logNote(log: PipelineLogger, n: Note, once?: OnceSet): void {
  switch (n.kind) {
    case 'never-block':
    case 'refused': {
      const first = once?.first(`${n.reason}|${n.address}`) ?? true;
      const msg = n.kind === 'never-block' ? 'ban ignored: address is in neverBlock' : `ban refused: ${n.reason}`;
      if (first) log.warn(n, msg);
      else log.debug(n, msg);
      break;
    }
    case 'stale-log':
      log.warn(n, 'log lines far older than the newest line seen (a replaced or old log?): ignored, not taken as live bans or unbans');
      break;
    case 'no-ipv6-group':
      log.warn(n, 'IPv6 ban skipped for groups without an ipv6Name');
      break;
    case 'invalid-address':
      log.warn(n, 'ban ignored: not an IP address or network');
      break;
    case 'unrouted':
      log.debug(n, 'ban ignored: no group takes this jail');
      break;
    case 'crash-restart':
      log.warn(
        n,
        n.source === undefined
          ? 'fail2ban restarted without a stop sequence: all bans suspended until their jails restore them'
          : "fail2ban restarted without a stop sequence: this source's bans suspended until its jails restore them",
      );
      break;
    case 'jail-restart':
      log.warn(
        n,
        "jail started again without a stop (fail2ban restarted?): this source's bans of the jail suspended until it restores them",
      );
      break;
    case 'repeat':
      // A replay can be a whole session: one info line per run, the rest at debug.
      if (n.run === 1) log.info(n, 'line delivered again by its transport (same time stamp and text): dropped; more of this run at debug');
      else log.debug(n, 'repeated line dropped');
      break;
    case 'forgot':
      log.warn(n, 'source forgotten: the bans only it held are lifted');
      break;
    case 'not-restored':
    case 'max-suspend':
    case 'expired-unban':
      log.info(
        n,
        n.kind === 'expired-unban'
          ? 'unban confirmed'
          : n.kind === 'not-restored'
            ? 'suspended ban not restored: removing'
            : 'suspension too old: removing',
      );
      break;
    default:
      log.debug(n, n.kind);
  }
}
