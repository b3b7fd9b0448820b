/**
 * The sidecar's durable state: `state.json` (current) and `state.json.prev` (the generation
 * before it). A save first makes `prev` a hard link to the current file, then replaces the
 * current file atomically, so at every crash point at least one complete, valid file exists.
 *
 * Loading never crash-loops and never silently drops data: a file the codec refuses is kept
 * aside as `state.json.corrupt-<time>`, the previous generation is used instead, and the caller
 * gets a `recovered` text to log loudly. With no valid copy the state starts as the codec's empty
 * value (the reconciler's start-up read of the firewall and the optional fail2ban-client seed
 * repair it). The store knows nothing of the format: the codec turns values into text and back.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeFs, tempPrefix, writeFileAtomic, type FsLike } from './atomic.js';
import { StateReadError, StateWriteError } from './errors.js';

export const STATE_FILE = 'state.json';

/**
 * How the stored value becomes file text and back. The format belongs to its owner (the
 * pipeline's src/pipeline/persisted.ts); the store only keeps the text safe.
 */
export interface StateCodec<T> {
  encode(value: T): string;
  /** Throws when the text is not a usable state; the error's message is the reason logged. */
  decode(text: string): T;
  /** The state of a first start, or of a start with no usable copy. */
  empty(now: Date): T;
  /** A few words on a value for the log (e.g. when it was saved). */
  describe?(value: T): string;
}

export interface StateStoreOptions {
  fs?: FsLike;
  now?: () => Date;
  /** Problems that do not stop a save (e.g. the previous generation could not be kept). */
  onWarning?: (message: string) => void;
}

export interface LoadResult<T> {
  state: T;
  /** Which copy was used: the current file, the previous generation, or none (empty state). */
  source: 'current' | 'previous' | 'empty';
  /** Set when anything was wrong: what happened, in one line for the log. */
  recovered?: string;
}

type Candidate<T> = { kind: 'ok'; state: T } | { kind: 'missing' } | { kind: 'invalid'; reason: string };

export class StateStore<T> {
  readonly file: string;
  readonly prevFile: string;
  private readonly fs: FsLike;
  private readonly now: () => Date;
  private readonly warn: (message: string) => void;
  private dirReady = false;

  constructor(
    readonly dir: string,
    private readonly codec: StateCodec<T>,
    opts: StateStoreOptions = {},
  ) {
    this.file = join(dir, STATE_FILE);
    this.prevFile = `${this.file}.prev`;
    this.fs = opts.fs ?? nodeFs;
    this.now = opts.now ?? (() => new Date());
    this.warn = opts.onWarning ?? (() => undefined);
  }

  /** Call with the directory lock held (acquireLock): it also sweeps temp files a crash left. */
  async load(): Promise<LoadResult<T>> {
    await this.ensureDir();
    await this.sweepTemps();
    const current = await this.read(this.file);
    if (current.kind === 'ok') return { state: current.state, source: 'current' };

    const notes: string[] = [];
    if (current.kind === 'invalid') {
      const aside = await this.setAside(this.file);
      notes.push(`${this.file} is unusable (${current.reason}); kept as ${aside}`);
    }
    const prev = await this.read(this.prevFile);
    if (prev.kind === 'ok') {
      if (current.kind === 'missing') notes.push(`${this.file} is missing`);
      const about = this.codec.describe?.(prev.state);
      notes.push(`loaded the previous generation ${this.prevFile}${about ? ` (${about})` : ''}`);
      return { state: prev.state, source: 'previous', recovered: notes.join('; ') };
    }
    if (current.kind === 'missing' && prev.kind === 'missing') return { state: this.codec.empty(this.now()), source: 'empty' };
    if (prev.kind === 'invalid') {
      const aside = await this.setAside(this.prevFile);
      notes.push(`the previous generation is unusable too (${prev.reason}); kept as ${aside}`);
    } else {
      notes.push('there is no previous generation');
    }
    notes.push('starting with an empty state: the firewall groups are re-read at start-up');
    return { state: this.codec.empty(this.now()), source: 'empty', recovered: notes.join('; ') };
  }

  async save(state: T): Promise<void> {
    await this.ensureDir();
    const data = this.codec.encode(state);
    await this.keepPrevious();
    await writeFileAtomic(this.file, data, { fs: this.fs, mode: 0o600 });
  }

  private async ensureDir(): Promise<void> {
    if (this.dirReady) return;
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StateWriteError(this.dir, 'open', err);
    }
    this.dirReady = true;
  }

  private async read(path: string): Promise<Candidate<T>> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      // Permissions or I/O: starting empty would drop the checkpoint, so stop and say why.
      throw new StateReadError(path, err);
    }
    try {
      return { kind: 'ok', state: this.codec.decode(text) };
    } catch (err) {
      return { kind: 'invalid', reason: err instanceof Error ? err.message : String(err) };
    }
  }

  private async setAside(path: string): Promise<string> {
    const stamp = this.now().toISOString().replace(/:/g, '-');
    const aside = `${path}.corrupt-${stamp}`;
    try {
      await rename(path, aside);
    } catch (err) {
      throw new StateWriteError(aside, 'rename', err);
    }
    return aside;
  }

  /**
   * `prev` := the current file, atomically (link to a temp name, rename over `prev`). Where hard
   * links are not supported the file is copied instead. A failure here leaves an older but valid
   * `prev`, so the save goes ahead and the problem is only reported.
   */
  private async keepPrevious(): Promise<void> {
    const tmp = join(this.dir, `${tempPrefix(this.prevFile)}${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      try {
        await link(this.file, tmp);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EMLINK') throw err;
        await copyFile(this.file, tmp);
      }
      await rename(tmp, this.prevFile);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      this.warn(`could not keep the previous state generation ${this.prevFile}: ${(err as Error).message}`);
    }
  }

  private async sweepTemps(): Promise<void> {
    const prefixes = [tempPrefix(this.file), tempPrefix(this.prevFile)];
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      throw new StateReadError(this.dir, err);
    }
    for (const n of names) {
      if (prefixes.some((p) => n.startsWith(p))) await unlink(join(this.dir, n)).catch(() => undefined);
    }
  }
}
