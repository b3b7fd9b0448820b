/**
 * The desired-state changes not yet passed on, kept in the two forms their consumers need:
 * - the net difference since the last flush, whose size drives the batching window (batch.ts);
 * - the latest class of every address changed since the last snapshot, handed to the
 *   reconcilers once the save of the snapshot that contains it is done (save-queue.ts).
 * The two are cleared at different moments (flush vs. start of a save), hence one object that
 * owns both rather than one map each in the sidecar.
 */
import type { GroupChange } from './model.js';
import type { DesiredClass } from './reconciler.js';

/** group key → address → class, the form Reconciler.updateDesired takes. */
export type ChangeSet = Map<string, Map<string, DesiredClass>>;

export class PendingChanges {
  /**
   * group key → address → net direction since the last flush (a ban undone in the window cancels
   * out). 'hold' counts as leaving: the firewall keeps the address, but a ban that is held before
   * its first write must not be written at all.
   */
  private readonly delta = new Map<string, Map<string, 'add' | 'remove'>>();
  private count = 0;
  private unshipped: ChangeSet = new Map();
  private unflushed = false;

  /** Net changes since the last flush: the batching window's input. */
  get size(): number {
    return this.count;
  }

  /** Groups changed since the last flush (for the flush log line). */
  get groups(): number {
    return this.delta.size;
  }

  /** A change or a moved checkpoint since the last flush: something a flush would save. */
  get dirty(): boolean {
    return this.unflushed;
  }

  /** Something to save arrived (a change, or a checkpoint alone). */
  touch(): void {
    this.unflushed = true;
  }

  record(c: GroupChange): void {
    let u = this.unshipped.get(c.key);
    if (!u) this.unshipped.set(c.key, (u = new Map()));
    u.set(c.address, c.op === 'add' ? 'desired' : c.op === 'hold' ? 'held' : 'absent');
    let m = this.delta.get(c.key);
    if (!m) this.delta.set(c.key, (m = new Map()));
    const op = c.op === 'add' ? 'add' : 'remove';
    const prev = m.get(c.address);
    if (prev === undefined) {
      m.set(c.address, op);
      this.count++;
    } else if (prev !== op) {
      m.delete(c.address);
      this.count--;
    }
  }

  /** A flush happened: the window starts from nothing (the changes stay unshipped until a snapshot). */
  flushed(): void {
    this.unflushed = false;
    this.delta.clear();
    this.count = 0;
  }

  /** The changes since the last snapshot, for the snapshot being taken now; starts a new set. */
  takeUnshipped(): ChangeSet {
    const out = this.unshipped;
    this.unshipped = new Map();
    return out;
  }
}
