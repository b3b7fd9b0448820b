/** Log lines to pipeline inputs: each line parsed once, counted, and rejected lines logged. */
import { map, type OperatorFunction } from 'rxjs';
import type { SidecarMetrics } from '../metrics/metrics.js';
import { parseLine, type ParseOptions } from '../parser/index.js';
import type { PipelineLogger } from '../pipeline/log.js';
import type { PipelineInput } from '../pipeline/sidecar.js';
import type { TailLine } from '../tail/index.js';

export interface LogInputOptions {
  metrics: Pick<SidecarMetrics, 'linesRead' | 'event' | 'lineRejected'> & Partial<Pick<SidecarMetrics, 'sourceEvent'>>;
  log: Pick<PipelineLogger, 'warn'>;
  /** Told of every line before it is parsed. */
  onLine?: (line: TailLine) => void;
  /** The reader's clock (epoch ms): the year of a traditional syslog time stamp is chosen from it. */
  now?: () => number;
}

/**
 * Every line yields an input: lines without an event still move the checkpoint. Who logged an
 * event (issue 13): in glob mode the file's source; otherwise the syslog HOST field of a combined
 * file; otherwise nobody ('' — the single log of a one-host setup).
 */
export function toPipelineInput(o: LogInputOptions): OperatorFunction<TailLine, PipelineInput> {
  // One options object for every line: the hot path allocates nothing for lines without events.
  const opts: ParseOptions = {};
  return map((tl) => {
    o.onLine?.(tl);
    o.metrics.linesRead();
    const at = tl.source === undefined ? { checkpoint: tl.checkpoint } : { checkpoint: tl.checkpoint, feed: tl.source };
    // A cut line may end inside an address: it is counted, never parsed.
    if (tl.truncated) {
      o.metrics.lineRejected('truncated');
      return at;
    }
    if (o.now) opts.now = o.now();
    const r = parseLine(tl.line, opts);
    if (r.kind === 'event') {
      const source = tl.source ?? r.event.host ?? '';
      o.metrics.event(r.event.type, r.event.jail);
      if (source !== '') o.metrics.sourceEvent?.(source);
      return source === '' ? { event: r.event, ...at } : { event: r.event, source, ...at };
    }
    if (r.kind === 'rejected') {
      o.metrics.lineRejected(r.reason);
      o.log.warn({ jail: r.jail, id: r.id, reason: r.reason, ...(tl.source !== undefined && { source: tl.source }) }, 'log line rejected');
    }
    return at;
  });
}
