/**
 * The bans a fail2ban log leaves standing at its end, for `replay` (backfill): the lines go
 * through the parser into a scratch DesiredModel on the file's own clock (each event's time stamp,
 * or the previous one for lines without), so stop-Unbans, suspensions and restores resolve as they
 * did when the log was written. No I/O: the caller hands the lines in, from any source.
 */
import { parseLine } from '../parser/index.js';
import type { F2bEvent } from '../parser/types.js';
import { DesiredModel, type ModelOptions } from './model.js';

/** The standing bans (active or suspended) as Ban events; `source` names the file in their `raw`. */
export async function standingBans(
  lines: AsyncIterable<string> | Iterable<string>,
  opts: ModelOptions,
  source: string,
): Promise<F2bEvent[]> {
  const model = new DesiredModel(opts);
  let now = 0;
  for await (const line of lines) {
    const r = parseLine(line);
    if (r.kind !== 'event') continue;
    const t = r.event.isoTime === undefined ? NaN : Date.parse(r.event.isoTime);
    if (Number.isFinite(t) && t > now) now = t;
    model.expire(now);
    // A combined syslog file of many hosts: each host's bans count on their own (issue 13).
    model.apply(r.event, now, r.event.host ?? '');
  }
  const out: F2bEvent[] = [];
  for (const { address, family, jail, entry } of model.list()) {
    if (entry.state === 'unbanning') continue;
    out.push({ type: 'ban', jail, ip: address, family, raw: `(replay of ${source})` });
  }
  return out;
}
