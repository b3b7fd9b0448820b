import type { Checkpoint } from '../core/checkpoint.js';

export interface TailLine {
  /** One complete line, without its trailing newline (UTF-8 decoded, invalid bytes replaced). */
  line: string;
  /** Checkpoint just after this line: persisting it means "this line and all before are handled". */
  checkpoint: Checkpoint;
  /** The line was longer than maxLineBytes and `line` is only its start: never parse it into an event. */
  truncated?: true;
  /**
   * Glob mode (log.path with `*`): the source the file belongs to, what the first `*` matched
   * (`web1` for /var/log/remote/web1/fail2ban.log). Undefined when a single log is followed.
   */
  source?: string;
}
