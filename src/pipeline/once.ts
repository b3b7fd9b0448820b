/**
 * "Log this once": remembers which keys were already reported, in bounded memory. fail2ban
 * restores every ban at each restart, so a refused address comes back again and again; its
 * warning should not. Least recently seen keys are forgotten first when the cap is reached, so
 * memory stays bounded under a flood of distinct addresses, and a key that keeps coming back
 * stays remembered (each sighting refreshes it).
 */
export class OnceSet {
  // A Map iterates in insertion order: re-inserting on each sighting makes its first key the
  // least recently seen.
  private readonly seen = new Map<string, true>();

  constructor(private readonly cap = 10_000) {
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`OnceSet cap must be a positive integer, got ${cap}`);
  }

  /** True the first time `key` is seen (or the first time since it was forgotten). */
  first(key: string): boolean {
    if (this.seen.has(key)) {
      this.seen.delete(key);
      this.seen.set(key, true);
      return false;
    }
    this.seen.set(key, true);
    if (this.seen.size > this.cap) this.seen.delete(this.seen.keys().next().value as string);
    return true;
  }

  /** Forget `key`, e.g. when the condition it reported has ended and a recurrence is news again. */
  forget(key: string): void {
    this.seen.delete(key);
  }

  get size(): number {
    return this.seen.size;
  }
}
