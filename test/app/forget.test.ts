import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FORGET_DIR,
  ForgetRequests,
  outcomeOf,
  previewForget,
  requestForget,
  takeAnswer,
  type ForgetOutcome,
} from '../../src/app/forget.js';
import { DesiredModel, DEFAULT_SUSPEND, type ModelOptions } from '../../src/pipeline/model.js';
import { emptyState } from '../../src/pipeline/persisted.js';

const opts: ModelOptions = {
  groups: [{ name: 'g', firewall: 'fw', jails: ['*'] }],
  neverBlock: () => false,
  suspend: DEFAULT_SUSPEND,
};
const ban = (ip: string) => ({ type: 'ban' as const, jail: 'sshd', ip, raw: '' });
const log = () => {
  const lines: string[] = [];
  return { lines, info: (_o: object, m: string) => void lines.push(m), warn: (_o: object, m: string) => void lines.push(`warn ${m}`) };
};

describe('forget requests (the running sidecar side)', () => {
  it('answers at once, applies a request once, and removes it only after the effect is settled', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'f2b-forget-'));
    const applied: string[] = [];
    let settle: () => void = () => undefined;
    const settled = () => new Promise<void>((r) => (settle = r));
    const forget = (source: string): ForgetOutcome => {
      applied.push(source);
      return { source, lifted: ['192.0.2.1'], slots: 2 };
    };
    const requests = new ForgetRequests({ stateDir: dir, forget, settled, log: log() });
    const done = await requestForget(dir, 'web2');
    expect(await requests.poll()).toBe(1);
    expect(await takeAnswer(done)).toEqual({ source: 'web2', lifted: ['192.0.2.1'], slots: 2 });
    // Not settled yet (not saved): the request stays, and is not applied a second time.
    expect((await readdir(join(dir, FORGET_DIR))).filter((f) => f.endsWith('.forget'))).toHaveLength(1);
    expect(await requests.poll()).toBe(0);
    settle();
    await new Promise((r) => setTimeout(r, 20));
    expect(await readdir(join(dir, FORGET_DIR))).toEqual([]);
    expect(applied).toEqual(['web2']);
  });

  it('a request left by a process that died before the save is applied again by the next one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'f2b-forget-'));
    await requestForget(dir, 'web3');
    const seen: string[] = [];
    const first = new ForgetRequests({
      stateDir: dir,
      forget: (s) => (seen.push(s), { source: s, lifted: [], slots: 1 }),
      settled: () => new Promise(() => undefined),
      log: log(),
    });
    await first.poll();
    const second = new ForgetRequests({
      stateDir: dir,
      forget: (s) => (seen.push(s), { source: s, lifted: [], slots: 0 }),
      settled: async () => undefined,
      log: log(),
    });
    expect(await second.poll()).toBe(1);
    expect(seen).toEqual(['web3', 'web3']);
  });
});

describe('previewForget / outcomeOf', () => {
  it('lifts only what the source alone holds, on a copy of the stored state', () => {
    const m = new DesiredModel(opts);
    m.apply(ban('192.0.2.1'), 0, 'web1');
    m.apply(ban('192.0.2.1'), 0, 'web2');
    m.apply(ban('192.0.2.2'), 0, 'web2');
    m.apply(ban('192.0.2.3'), 0, 'web2');
    const state = { ...emptyState(new Date(0)), model: m.serialize() };
    const before = JSON.stringify(state);
    const p = previewForget(state, 'web2', opts, 1000);
    expect(p.outcome).toEqual({ source: 'web2', lifted: ['192.0.2.2', '192.0.2.3'], slots: 3 });
    expect(p.known).toEqual(['web1', 'web2']);
    expect(JSON.stringify(state)).toBe(before);
    expect(previewForget(state, 'web9', opts, 1000).outcome.slots).toBe(0);
  });

  it('an address lifted from two groups is listed once', () => {
    expect(
      outcomeOf(
        's',
        [
          { key: 'fw/a', address: '192.0.2.9', op: 'remove' },
          { key: 'fw/b', address: '192.0.2.9', op: 'remove' },
          { key: 'fw/a', address: '192.0.2.8', op: 'hold' },
        ],
        2,
      ).lifted,
    ).toEqual(['192.0.2.9']);
  });
});
