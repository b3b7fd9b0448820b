/**
 * Drops lines a syslog transport delivered twice. After a reconnect rsyslog's TCP+TLS forwarder
 * resends its last message (ResendLastMSGOnReconnect) and RELP over TLS (librelp 1.11) re-sends
 * every line since its session opened: the central file then holds the same line again, with the
 * same microsecond time stamp. Read again, a `Jail 'sshd' started` would be taken for a crash
 * restart of that host (its bans suspended, the unrestored ones lifted) and a Ban/Unban pair would
 * be written twice. So, per named source: a line whose time is newer than the newest seen is news
 * (one hash, one store); a line at or before that time is dropped if the same line (whole raw text,
 * time stamp and host included) is among the source's last REPEAT_WINDOW lines (or its
 * last LIFECYCLE_WINDOW start/stop lines), and accepted
 * otherwise (a genuine second line in the same millisecond, or a clock stepped back).
 *
 * Limits, on purpose: a repeat older than the last REPEAT_WINDOW lines of its source is accepted
 * (it has left the window; start/stop lines excepted). In a replay longer than the window that
 * re-applies old Bans whose Unbans, still in the window, are dropped: such an address stays held
 * for that source (an extra block, never a lifted one) until its jail restarts or the source is
 * forgotten. Lines without a time stamp are never dropped. The windows are memory only: a repeat
 * arriving across a restart of the sidecar is recognised only if remember() primed the window.
 */
import type { EventType, F2bEvent } from '../parser/types.js';
import { timeOf } from './event-time.js';

/** Lines remembered per source: TCP resends one line, RELP a session (mostly far fewer lines). */
export const REPEAT_WINDOW = 8192;
/**
 * Server and jail start/stop lines remembered besides, per source: a RELP session longer than the
 * window would replay its opening `Jail 'sshd' started` after it left the window, and that line
 * alone would suspend the host's bans. They are few (a restart writes 2 + 2 per jail).
 */
export const LIFECYCLE_WINDOW = 256;
const LIFECYCLE: ReadonlySet<EventType> = new Set<EventType>(['server-start', 'server-stopping', 'server-stop', 'jail-start', 'jail-stop']);
/** First ring size of a source: 100 idle sources cost next to nothing. */
const FIRST_CAPACITY = 16;
const TWO_32 = 4294967296;

/**
 * A 53-bit key of a line: two independent 32-bit hashes (FNV-1a and a multiply-xorshift) in one
 * pass, each finalised (murmur3 fmix32); the low 32 bits are the first hash (used as the slot).
 * Two different lines share a key with a probability of about 2^-53 per pair.
 */
export function lineKey(raw: string): number {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9 ^ raw.length;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (fmix32(b) & 0x1fffff) * TWO_32 + fmix32(a);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The last lines of one source: a ring of keys (oldest overwritten) with an open-addressing index
 * (linear probing, table twice the ring, entries = ring slot + 1, 0 = empty) so a lookup costs
 * a probe or two instead of a scan. Both start small and double up to the window.
 */
export class LineWindow {
  newest = -Infinity;
  /** Consecutive repeats dropped (0 after an accepted line): one info line per run. */
  run = 0;
  private keys: Float64Array;
  private index: Uint16Array | Uint32Array;
  private mask: number;
  private head = 0;
  private size = 0;

  constructor(private readonly max: number = REPEAT_WINDOW) {
    const cap = Math.min(FIRST_CAPACITY, max);
    this.keys = new Float64Array(cap);
    this.index = table(cap, max);
    this.mask = this.index.length - 1;
  }

  /** Lines held (≤ the window). */
  get length(): number {
    return this.size;
  }

  /** Bytes of the typed arrays. */
  get bytes(): number {
    return this.keys.byteLength + this.index.byteLength;
  }

  has(key: number): boolean {
    const { index, keys, mask } = this;
    for (let i = (key >>> 0) & mask; index[i] !== 0; i = (i + 1) & mask) {
      if (keys[(index[i] as number) - 1] === key) return true;
    }
    return false;
  }

  add(key: number): void {
    const cap = this.keys.length;
    if (this.size === cap) {
      if (cap < this.max) this.grow(Math.min(cap * 2, this.max));
      else this.unindex(this.head);
    }
    this.keys[this.head] = key;
    this.insert(this.head);
    this.head = (this.head + 1) % this.keys.length;
    if (this.size < this.keys.length) this.size++;
  }

  /** Only while the ring has never wrapped: it holds slots 0..size-1 in order, the next goes to `size`. */
  private grow(cap: number): void {
    const keys = new Float64Array(cap);
    keys.set(this.keys);
    this.keys = keys;
    this.head = this.size;
    this.index = table(cap, this.max);
    this.mask = this.index.length - 1;
    for (let s = 0; s < this.size; s++) this.insert(s);
  }

  private insert(slot: number): void {
    const { index, mask } = this;
    let i = ((this.keys[slot] as number) >>> 0) & mask;
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = slot + 1;
  }

  /** Removes the entry of ring slot `slot` (backward-shift deletion keeps every probe chain whole). */
  private unindex(slot: number): void {
    const { index, keys, mask } = this;
    let i = ((keys[slot] as number) >>> 0) & mask;
    // Always found (every slot is indexed once); the bound only keeps a bug from hanging the sidecar.
    for (let n = 0; index[i] !== slot + 1; n++, i = (i + 1) & mask) if (n > mask) return;
    for (let j = (i + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const home = ((keys[(index[j] as number) - 1] as number) >>> 0) & mask;
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        index[i] = index[j] as number;
        i = j;
      }
    }
    index[i] = 0;
  }
}

/** The index of a ring of `cap`: a power of two ≥ twice the ring (load ≤ 1/2), entries sized to the window. */
function table(cap: number, max: number): Uint16Array | Uint32Array {
  let n = 2;
  while (n < cap * 2) n *= 2;
  return max < 0xffff ? new Uint16Array(n) : new Uint32Array(n);
}

/** Per source windows of recent lines; the single log '' is never filtered (a file tailer does not repeat). */
export class RepeatFilter {
  private readonly windows = new Map<string, LineWindow>();
  /** Lifecycle lines per source (allocated at the first one). */
  private readonly lifecycle = new Map<string, LineWindow>();
  private total = 0;

  constructor(private readonly window: number = REPEAT_WINDOW) {}

  /** Repeats dropped since start. */
  get dropped(): number {
    return this.total;
  }

  /** Sources with a window. */
  get sources(): number {
    return this.windows.size;
  }

  /** Typed-array bytes of every window (the Map and objects add ~200 bytes per source). */
  get bytes(): number {
    let n = 0;
    for (const w of this.windows.values()) n += w.bytes;
    for (const w of this.lifecycle.values()) n += w.bytes;
    return n;
  }

  /**
   * Decides on `ev` of `source` and remembers it when new. A repeat is counted; the caller drops it.
   * Returns the run length for a repeat (1 = first of a run), 0 for a line to apply.
   */
  check(source: string | undefined, ev: F2bEvent): number {
    if (!source) return 0;
    const t = timeOf(ev);
    if (Number.isNaN(t)) return 0;
    const w = this.windowOf(source);
    const key = lineKey(ev.raw);
    // Only a line no newer than the newest seen can be a repeat.
    if (t <= w.newest && (w.has(key) || (LIFECYCLE.has(ev.type) && this.lifecycle.get(source)?.has(key) === true))) {
      this.total++;
      return ++w.run;
    }
    w.run = 0;
    this.store(source, w, t, key, ev.type);
    return 0;
  }

  /** Remembers `ev` as read without deciding on it (to prime a window from lines read before a restart). */
  remember(source: string, ev: F2bEvent): void {
    const t = timeOf(ev);
    if (!source || Number.isNaN(t)) return;
    this.store(source, this.windowOf(source), t, lineKey(ev.raw), ev.type);
  }

  private store(source: string, w: LineWindow, t: number, key: number, type: EventType): void {
    if (t > w.newest) w.newest = t;
    w.add(key);
    if (LIFECYCLE.has(type)) this.lifecycleOf(source).add(key);
  }

  /** Drops the window of a forgotten source. */
  forget(source: string): void {
    this.windows.delete(source);
    this.lifecycle.delete(source);
  }

  private lifecycleOf(source: string): LineWindow {
    let w = this.lifecycle.get(source);
    if (!w) {
      w = new LineWindow(LIFECYCLE_WINDOW);
      this.lifecycle.set(source, w);
    }
    return w;
  }

  private windowOf(source: string): LineWindow {
    let w = this.windows.get(source);
    if (!w) {
      w = new LineWindow(this.window);
      this.windows.set(source, w);
    }
    return w;
  }
}
