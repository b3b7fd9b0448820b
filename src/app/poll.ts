/**
 * The operator's request directories (`release/`, `forget/`) are looked at on a timer: the running
 * sidecar has no control socket. One look at a time (a slow disk never stacks them up), a failed
 * look only warned about, the timer unref'd (it never keeps the process alive) and stopped at shutdown.
 */
import type { Shutdown } from './shutdown.js';

export function pollEvery(
  look: () => Promise<unknown>,
  everyMs: number,
  onError: (err: unknown) => void,
  shutdown: Pick<Shutdown, 'add'>,
): void {
  let busy = false;
  const tick = (): void => {
    if (busy) return;
    busy = true;
    void look()
      .catch(onError)
      .finally(() => (busy = false));
  };
  tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  shutdown.add(() => clearInterval(timer));
}
