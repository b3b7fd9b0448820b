/** Log lines to pipeline inputs: each line parsed once, counted, and rejected lines logged. */
import { map, type OperatorFunction } from 'rxjs';
import type { SidecarMetrics } from '../metrics/metrics.js';
import { parseLine } from '../parser/index.js';
import type { PipelineLogger } from '../pipeline/log.js';
import type { PipelineInput } from '../pipeline/sidecar.js';
import type { TailLine } from '../tail/index.js';

export interface LogInputOptions {
  metrics: Pick<SidecarMetrics, 'linesRead' | 'event' | 'lineRejected'>;
  log: Pick<PipelineLogger, 'warn'>;
  /** Told of every line before it is parsed. */
  onLine?: (line: TailLine) => void;
}

/** Every line yields an input: lines without an event still move the checkpoint. */
export function toPipelineInput(o: LogInputOptions): OperatorFunction<TailLine, PipelineInput> {
  return map((tl) => {
    o.onLine?.(tl);
    o.metrics.linesRead();
    // A cut line may end inside an address: it is counted, never parsed.
    if (tl.truncated) {
      o.metrics.lineRejected('truncated');
      return { checkpoint: tl.checkpoint };
    }
    const r = parseLine(tl.line);
    if (r.kind === 'event') {
      o.metrics.event(r.event.type, r.event.jail);
      return { event: r.event, checkpoint: tl.checkpoint };
    }
    if (r.kind === 'rejected') {
      o.metrics.lineRejected(r.reason);
      o.log.warn({ jail: r.jail, id: r.id, reason: r.reason }, 'log line rejected');
    }
    return { checkpoint: tl.checkpoint };
  });
}
