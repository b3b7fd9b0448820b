import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeState,
  emptyState,
  encodeState,
  STATE_VERSION,
  StateFormatError,
  stateCodec,
  type PersistedState,
} from '../../src/pipeline/persisted.js';
import { MODEL_VERSION } from '../../src/pipeline/model.js';
import { StateStore, type StateCodec } from '../../src/state/index.js';

const NOW = new Date('2026-11-25T08:00:00.000Z');

function state(gen: number, extra: Partial<PersistedState> = {}): PersistedState {
  return {
    version: STATE_VERSION,
    model: {
      version: MODEL_VERSION,
      pid: 4242,
      stopping: false,
      entries: {
        [`203.0.113.${gen}`]: { sshd: { state: 'active', at: 1_700_000_000_000 + gen } },
        '2001:db8::/64': { nginx: { state: 'suspended', at: 1_700_000_000_000, restoreBy: 1_700_000_060_000 } },
      },
    },
    checkpoint: { path: '/var/log/fail2ban.log', dev: 2049, ino: 131_000 + gen, offset: 1000 * gen, head: 'ab'.repeat(32) },
    savedAt: `2026-11-25T07:00:0${gen}.000Z`,
    ...extra,
  };
}

/** The reason decodeState gives for `text`, or undefined when it accepts it. */
function refusal(text: string): string | undefined {
  try {
    decodeState(text);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(StateFormatError);
    return (err as StateFormatError).message;
  }
}

describe('state codec', () => {
  it('round-trips a state, as one line of JSON', () => {
    const text = encodeState(state(2));
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2);
    expect(decodeState(text)).toEqual(state(2));
  });

  it('round-trips the empty state and a state without checkpoint', () => {
    expect(emptyState(NOW)).toEqual({ version: 1, model: { version: 1, stopping: false, entries: {} }, savedAt: NOW.toISOString() });
    expect(decodeState(encodeState(emptyState(NOW)))).toEqual(emptyState(NOW));
    const { checkpoint: _c, ...noCheckpoint } = state(1);
    expect(decodeState(encodeState(noCheckpoint))).toEqual(noCheckpoint);
  });

  const bad: [string, string, RegExp][] = [
    ['garbage', '{"version":1,"mo\u0000del', /^not valid JSON \(/],
    ['an empty file', ' \n', /^empty file$/],
    ['a wrong state version', JSON.stringify({ ...state(2), version: 2 }), /^unexpected shape at version: /],
    [
      'a wrong model version',
      JSON.stringify({ ...state(2), model: { ...state(2).model, version: 9 } }),
      /^unexpected shape at model\.version: /,
    ],
    ['a wrong shape', JSON.stringify({ ...state(2), model: { entries: [] } }), /^unexpected shape at model\.\w+: .*\(\+\d+ more\)$/],
    ['a JSON null', 'null', /^unexpected shape at document: /],
    [
      'an unknown jail state',
      JSON.stringify({ ...state(2), model: { ...state(2).model, entries: { '192.0.2.1': { sshd: { state: 'gone', at: 1 } } } } }),
      /^unexpected shape at model\.entries\.192\.0\.2\.1\.sshd\.state: /,
    ],
    [
      'a checkpoint head that is not a SHA-256',
      JSON.stringify(state(2, { checkpoint: { ...state(2).checkpoint!, head: 'abc' } })),
      /^unexpected shape at checkpoint\.head: /,
    ],
    [
      'a negative offset',
      JSON.stringify(state(2, { checkpoint: { ...state(2).checkpoint!, offset: -1 } })),
      /^unexpected shape at checkpoint\.offset: /,
    ],
  ];
  it.each(bad)('refuses %s, saying where', (_name, text, reason) => {
    expect(refusal(text)).toMatch(reason);
  });

  it('StateFormatError: code, not retryable, the parser error as cause', () => {
    let caught: unknown;
    try {
      decodeState('{');
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'STATE_FORMAT', retryable: false, name: 'StateFormatError' });
    expect((caught as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('is a StateCodec for the store, and describes a state by its save time', () => {
    const codec: StateCodec<PersistedState> = stateCodec;
    expect(codec.describe?.(state(3))).toBe('saved 2026-11-25T07:00:03.000Z');
    expect(codec.empty(NOW)).toEqual(emptyState(NOW));
  });
});

describe('StateStore with the state codec', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'f2b-persisted-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('saves the encoded state and loads it back', async () => {
    const store = new StateStore(dir, stateCodec);
    await store.save(state(1));
    expect(await readFile(store.file, 'utf8')).toBe(encodeState(state(1)));
    expect(await new StateStore(dir, stateCodec).load()).toEqual({ state: state(1), source: 'current' });
  });

  it('a file of another model version is set aside; the previous generation is loaded, with its save time in the note', async () => {
    const store = new StateStore(dir, stateCodec, { now: () => NOW });
    await store.save(state(1));
    await store.save(state(2));
    await writeFile(store.file, JSON.stringify({ ...state(2), model: { ...state(2).model, version: 9 } }));
    const r = await new StateStore(dir, stateCodec, { now: () => NOW }).load();
    expect(r.source).toBe('previous');
    expect(r.state).toEqual(state(1));
    expect(r.recovered).toMatch(/unusable \(unexpected shape at model\.version: .*\); kept as .*corrupt-2026-11-25T08-00-00\.000Z/);
    expect(r.recovered).toContain(`loaded the previous generation ${store.prevFile} (saved 2026-11-25T07:00:01.000Z)`);
  });

  it('no state yet: the empty state, with no checkpoint', async () => {
    const r = await new StateStore(dir, stateCodec, { now: () => NOW }).load();
    expect(r).toEqual({ state: emptyState(NOW), source: 'empty' });
    expect(r.state.checkpoint).toBeUndefined();
  });
});

describe('state codec: a fleet (issue 13)', () => {
  const fleet = (): PersistedState => ({
    ...state(3),
    model: {
      ...state(3).model,
      version: 2,
      started: ['sshd'],
      sources: {
        web1: {
          pid: 100,
          stopping: false,
          newestLine: 5,
          started: ['sshd', 'nginx'],
          entries: { '192.0.2.1': { sshd: { state: 'active', at: 1 } } },
        },
        'db-2.example.org': { stopping: true, entries: {} },
      },
    },
    checkpoints: { web1: { path: '/var/log/remote/web1/fail2ban.log', dev: 2049, ino: 7, offset: 10, head: 'cd'.repeat(32) } },
  });

  it('round-trips a version 2 model with its sources and the checkpoint of every feed', () => {
    expect(decodeState(encodeState(fleet()))).toEqual(fleet());
  });

  it('still reads a version 1 model (all of it the single log)', () => {
    const v1 = state(2, { model: { ...state(2).model, version: 1 } });
    expect(decodeState(encodeState(v1))).toEqual(v1);
  });

  it.each([
    ['a source name with a slash', 'a/b', /^unexpected shape at model\.sources\.a\/b: /],
    ['a source name with whitespace', 'a b', /^unexpected shape at model\.sources\.a b: /],
    ['an empty source name (the top level is source "")', '', /^unexpected shape at model\.sources\.: /],
  ])('refuses %s', (_name, source, reason) => {
    const s = fleet();
    const text = JSON.stringify({ ...s, model: { ...s.model, sources: { [source]: { stopping: false, entries: {} } } } });
    expect(refusal(text)).toMatch(reason);
  });

  it('refuses a feed checkpoint of the wrong shape, saying which feed', () => {
    const s = fleet();
    const text = JSON.stringify({ ...s, checkpoints: { web1: { ...s.checkpoints!.web1!, offset: -1 } } });
    expect(refusal(text)).toMatch(/^unexpected shape at checkpoints\.web1\.offset: /);
  });
});
