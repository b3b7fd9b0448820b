/** The model's notes (things worth a log line that are not group changes), each at its level. */
import type { PipelineLogger } from './log.js';
import type { Note } from './model.js';

export function logNote(log: PipelineLogger, n: Note): void {
  switch (n.kind) {
    case 'never-block':
      log.warn(n, 'ban ignored: address is in neverBlock');
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
      log.warn(n, 'fail2ban restarted without a stop sequence: all bans suspended until their jails restore them');
      break;
    case 'not-restored':
    case 'max-suspend':
    case 'expired-unban':
      log.info(n, n.kind === 'expired-unban' ? 'unban confirmed' : n.kind === 'not-restored' ? 'suspended ban not restored: removing' : 'suspension too old: removing');
      break;
    default:
      log.debug(n, n.kind);
  }
}
