/**
 * The runtime's shutdown: each part registers how to stop as it starts, and stop() undoes them
 * in reverse order, so a part is stopped before what it depends on (the sidecar before the
 * firewall clients, everything before the state directory's lock is released).
 */
export interface ShutdownLogger {
  warn(obj: object, msg: string): void;
}

export class Shutdown {
  private readonly steps: (() => Promise<void>)[] = [];

  constructor(private readonly log: ShutdownLogger) {}

  add(step: () => Promise<void> | void): void {
    this.steps.push(async () => step());
  }

  /**
   * Runs every registered step, last first. A failing step is logged and the others still run:
   * one stuck firewall client must not keep the lock held. A second call does nothing.
   */
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await step().catch((err: unknown) => this.log.warn({ err }, 'cleanup failed'));
  }
}
