import { describe, expect, it } from 'vitest';
import { register as globalRegistry } from 'prom-client';
import { BAN_TO_BLOCK_BUCKETS, REQUEST_BUCKETS, boundedLabel, createMetrics, requestOutcome } from '../../src/metrics/metrics.js';
import { errorForStatus, XgAuthError, XgTimeoutError, XgTransportError } from '../../src/xg/errors.js';
import { TlsPinError } from '../../src/xg/tls.js';
import { find, parseExposition, valueOf } from './exposition.js';
import { T0, healthySnapshot, iso } from './snapshot.js';

const P = 'f2b_sophosxg_';

async function scrape(m: ReturnType<typeof createMetrics>) {
  return parseExposition(await m.render());
}

describe('createMetrics', () => {
  it('declares every metric with its type, build_info carries the version', async () => {
    const m = createMetrics({ version: '1.2.3' });
    const exp = await scrape(m);
    const expected: Record<string, string> = {
      events_total: 'counter',
      lines_total: 'counter',
      lines_rejected_total: 'counter',
      neverblock_skipped_total: 'counter',
      ban_targets_refused_total: 'counter',
      removals_held: 'gauge',
      desired_addresses: 'gauge',
      applied_addresses: 'gauge',
      pending_operations: 'gauge',
      suspended_addresses: 'gauge',
      addresses_set_aside: 'gauge',
      owned_objects: 'gauge',
      addresses_per_list: 'gauge',
      firewall_requests_total: 'counter',
      firewall_request_duration_seconds: 'histogram',
      ban_to_block_seconds: 'histogram',
      last_successful_reconcile_timestamp_seconds: 'gauge',
      firewall_up: 'gauge',
      log_readable: 'gauge',
      group_enforced: 'gauge',
      source_events_total: 'counter',
      repeated_lines_total: 'counter',
      source_bans: 'gauge',
      source_last_line_timestamp_seconds: 'gauge',
      source_silent: 'gauge',
      state_write_failures_total: 'counter',
      build_info: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) expect(exp.types.get(P + name), name).toBe(type);
    expect(exp.types.size).toBe(Object.keys(expected).length);
    expect(valueOf(exp, `${P}build_info`, { version: '1.2.3' })).toBe(1);
    expect(valueOf(exp, `${P}lines_total`)).toBe(0);
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('counts events, lines, rejections, never-block skips and state write failures', async () => {
    const m = createMetrics();
    m.event('ban', 'sshd');
    m.event('ban', 'sshd');
    m.event('unban', 'sshd');
    m.event('ban', 'nginx');
    m.event('server-start');
    m.linesRead();
    m.linesRead(41);
    m.lineRejected('invalid address');
    m.lineRejected('invalid address');
    m.neverblockSkipped('f2b-ssh-v4');
    m.stateWriteFailure();
    const exp = await scrape(m);
    expect(valueOf(exp, `${P}events_total`, { type: 'ban', jail: 'sshd' })).toBe(2);
    expect(valueOf(exp, `${P}events_total`, { type: 'unban', jail: 'sshd' })).toBe(1);
    expect(valueOf(exp, `${P}events_total`, { type: 'ban', jail: 'nginx' })).toBe(1);
    expect(valueOf(exp, `${P}events_total`, { type: 'server-start', jail: '' })).toBe(1);
    expect(valueOf(exp, `${P}lines_total`)).toBe(42);
    expect(valueOf(exp, `${P}lines_rejected_total`, { reason: 'invalid address' })).toBe(2);
    expect(valueOf(exp, `${P}neverblock_skipped_total`, { group: 'f2b-ssh-v4' })).toBe(1);
    expect(valueOf(exp, `${P}state_write_failures_total`)).toBe(1);
    expect(valueOf(exp, `${P}build_info`, { version: 'unknown' })).toBe(1);
  });

  it('counts refused ban targets by reason and shows held removals per group, dropping released ones', async () => {
    const m = createMetrics();
    m.targetRefused('multicast');
    m.targetRefused('multicast');
    m.targetRefused('too-wide');
    m.applyHolds([
      { group: 'xg/f2b-a', count: 30 },
      { group: 'xg/f2b-b', count: 2000 },
    ]);
    let exp = await scrape(m);
    expect(valueOf(exp, `${P}ban_targets_refused_total`, { reason: 'multicast' })).toBe(2);
    expect(valueOf(exp, `${P}ban_targets_refused_total`, { reason: 'too-wide' })).toBe(1);
    expect(valueOf(exp, `${P}removals_held`, { group: 'xg/f2b-b' })).toBe(2000);
    m.applyHolds([{ group: 'xg/f2b-b', count: 2001 }]);
    exp = await scrape(m);
    expect(find(exp, `${P}removals_held`, { group: 'xg/f2b-a' })).toEqual([]);
    expect(valueOf(exp, `${P}removals_held`, { group: 'xg/f2b-b' })).toBe(2001);
  });

  it('escapes label values from the log (a jail name with quotes stays one series)', async () => {
    const m = createMetrics();
    m.event('ban', 'odd "jail"\\x');
    const exp = await scrape(m);
    expect(valueOf(exp, `${P}events_total`, { type: 'ban', jail: 'odd "jail"\\x' })).toBe(1);
  });

  it('observes request durations into the histogram and counts outcomes', async () => {
    const m = createMetrics();
    m.request('edge', 'addToGroup', 6.2);
    m.request('edge', 'addToGroup', 0.04);
    m.request('edge', 'addToGroup', 31, new XgTimeoutError('no answer'));
    m.request('edge', 'readGroup', 0.3, errorForStatus(undefined, 'Authentication Failure'));
    const exp = await scrape(m);
    const hist = `${P}firewall_request_duration_seconds`;
    const labels = { firewall: 'edge', op: 'addToGroup' };
    expect(valueOf(exp, `${hist}_count`, labels)).toBe(3);
    expect(valueOf(exp, `${hist}_sum`, labels)).toBeCloseTo(37.24, 6);
    expect(valueOf(exp, `${hist}_bucket`, { ...labels, le: '0.05' })).toBe(1);
    expect(valueOf(exp, `${hist}_bucket`, { ...labels, le: '6' })).toBe(1);
    expect(valueOf(exp, `${hist}_bucket`, { ...labels, le: '7' })).toBe(2);
    expect(valueOf(exp, `${hist}_bucket`, { ...labels, le: '30' })).toBe(2);
    expect(valueOf(exp, `${hist}_bucket`, { ...labels, le: '+Inf' })).toBe(3);
    expect(find(exp, `${hist}_bucket`, labels).map((s) => s.labels.le)).toEqual([...REQUEST_BUCKETS.map(String), '+Inf']);
    const req = `${P}firewall_requests_total`;
    expect(valueOf(exp, req, { ...labels, outcome: 'ok' })).toBe(2);
    expect(valueOf(exp, req, { ...labels, outcome: 'timeout' })).toBe(1);
    expect(valueOf(exp, req, { firewall: 'edge', op: 'readGroup', outcome: 'auth' })).toBe(1);
  });

  it('observes ban-to-block latency per firewall and group', async () => {
    const m = createMetrics();
    m.banToBlock('edge', 'f2b-ssh-v4', 0.08);
    m.banToBlock('edge', 'f2b-ssh-v4', 12);
    m.banToBlock('edge', 'f2b-ssh-v4', 900);
    // A Ban line stamped slightly in the future (clock skew) counts as 0, not as a negative duration.
    m.banToBlock('edge', 'f2b-ssh-v4', -2);
    const exp = await scrape(m);
    const h = `${P}ban_to_block_seconds`;
    const labels = { firewall: 'edge', group: 'f2b-ssh-v4' };
    expect(find(exp, `${h}_bucket`, labels).map((s) => s.labels.le)).toEqual([...BAN_TO_BLOCK_BUCKETS.map(String), '+Inf']);
    expect(valueOf(exp, `${h}_bucket`, { ...labels, le: '0.1' })).toBe(2);
    expect(valueOf(exp, `${h}_bucket`, { ...labels, le: '15' })).toBe(3);
    expect(valueOf(exp, `${h}_bucket`, { ...labels, le: '600' })).toBe(3);
    expect(valueOf(exp, `${h}_count`, labels)).toBe(4);
    expect(valueOf(exp, `${h}_sum`, labels)).toBeCloseTo(912.08, 6);
  });

  it('applyStatus: objects used per group and addresses per list (issue 12); groups without them export none', async () => {
    const m = createMetrics();
    const status = healthySnapshot();
    status.groups[0]!.objects = { mode: 'lists', lists: 11, hosts: 2, maxPerList: 1000, meanPerList: 909 };
    m.applyStatus(status);
    const exp = await scrape(m);
    const v4 = { firewall: 'edge', group: 'f2b-ssh-v4' };
    expect(valueOf(exp, `${P}owned_objects`, { ...v4, kind: 'list' })).toBe(11);
    expect(valueOf(exp, `${P}owned_objects`, { ...v4, kind: 'host' })).toBe(2);
    expect(valueOf(exp, `${P}addresses_per_list`, { ...v4, stat: 'max' })).toBe(1000);
    expect(valueOf(exp, `${P}addresses_per_list`, { ...v4, stat: 'mean' })).toBe(909);
    expect(find(exp, `${P}owned_objects`)).toHaveLength(2);
    delete status.groups[0]!.objects;
    m.applyStatus(status);
    expect(find(await scrape(m), `${P}owned_objects`)).toHaveLength(0);
  });

  it('per fleet source (issue 13): events counted, bans / last line / silent from the status; a source gone from the status is dropped', async () => {
    const m = createMetrics();
    m.sourceEvent('web1');
    m.sourceEvent('web1');
    m.sourceEvent('web2');
    m.repeatedLine('web2');
    const status = healthySnapshot();
    status.sources = [
      { name: 'web1', events: 2, bans: 5, lastLineAt: new Date(T0).toISOString(), silent: false },
      { name: 'web2', events: 1, bans: 0, silent: true },
    ];
    m.applyStatus(status);
    let exp = await scrape(m);
    expect(valueOf(exp, `${P}source_events_total`, { source: 'web1' })).toBe(2);
    expect(valueOf(exp, `${P}source_bans`, { source: 'web1' })).toBe(5);
    expect(valueOf(exp, `${P}repeated_lines_total`, { source: 'web2' })).toBe(1);
    expect(valueOf(exp, `${P}source_last_line_timestamp_seconds`, { source: 'web1' })).toBe(T0 / 1000);
    // No line since the start: no fake epoch-0 time stamp.
    expect(find(exp, `${P}source_last_line_timestamp_seconds`, { source: 'web2' })).toHaveLength(0);
    expect(valueOf(exp, `${P}source_silent`, { source: 'web2' })).toBe(1);
    status.sources = [status.sources[0]!];
    m.applyStatus(status);
    exp = await scrape(m);
    expect(find(exp, `${P}source_bans`, { source: 'web2' })).toHaveLength(0);
  });

  it('applyStatus sets the group, firewall and log gauges', async () => {
    const m = createMetrics();
    const status = healthySnapshot();
    status.firewalls[1] = { name: 'branch', reachable: false, consecutiveFailures: 4 };
    m.applyStatus(status);
    const exp = await scrape(m);
    const v4 = { firewall: 'edge', group: 'f2b-ssh-v4' };
    expect(valueOf(exp, `${P}desired_addresses`, v4)).toBe(12);
    expect(valueOf(exp, `${P}applied_addresses`, v4)).toBe(10);
    expect(valueOf(exp, `${P}suspended_addresses`, v4)).toBe(2);
    expect(valueOf(exp, `${P}pending_operations`, { ...v4, op: 'add' })).toBe(3);
    expect(valueOf(exp, `${P}pending_operations`, { ...v4, op: 'remove' })).toBe(1);
    expect(valueOf(exp, `${P}desired_addresses`, { firewall: 'branch', group: 'f2b-web' })).toBe(7);
    expect(find(exp, `${P}desired_addresses`)).toHaveLength(3);
    // The latest success of any group on the firewall, in seconds.
    expect(valueOf(exp, `${P}last_successful_reconcile_timestamp_seconds`, { firewall: 'edge' })).toBe((T0 - 5_000) / 1000);
    // Never succeeded: no series rather than a fake 0 (which would look 56 years stale).
    expect(find(exp, `${P}last_successful_reconcile_timestamp_seconds`, { firewall: 'branch' })).toHaveLength(0);
    expect(valueOf(exp, `${P}firewall_up`, { firewall: 'edge' })).toBe(1);
    expect(valueOf(exp, `${P}firewall_up`, { firewall: 'branch' })).toBe(0);
    expect(valueOf(exp, `${P}log_readable`)).toBe(1);
  });

  it('group_enforced: 1/0 per group once the rules were read, no series while unknown', async () => {
    const m = createMetrics();
    const status = healthySnapshot();
    status.groups = status.groups.map((g, i) =>
      i === 0 ? { ...g, enforced: true, enforcedBy: ['Drop'] } : i === 1 ? { ...g, enforced: false } : g,
    );
    m.applyStatus(status);
    const exp = await scrape(m);
    expect(valueOf(exp, `${P}group_enforced`, { firewall: 'edge', group: 'f2b-ssh-v4' })).toBe(1);
    expect(valueOf(exp, `${P}group_enforced`, { firewall: 'edge', group: 'f2b-ssh-v6' })).toBe(0);
    expect(find(exp, `${P}group_enforced`)).toHaveLength(2);
  });

  it('applyStatus replaces the previous snapshot: values follow, removed groups disappear', async () => {
    const m = createMetrics();
    m.applyStatus(healthySnapshot());
    const next = healthySnapshot();
    next.groups = next.groups.filter((g) => g.group !== 'f2b-web');
    next.groups[0] = { ...(next.groups[0] as (typeof next.groups)[0]), desired: 13, pendingAdds: 0, lastSuccess: iso(T0) };
    next.firewalls = next.firewalls.filter((f) => f.name !== 'branch');
    next.log = { path: '/var/log/fail2ban.log', readable: false, unreadableSince: iso(T0) };
    m.applyStatus(next);
    const exp = await scrape(m);
    expect(valueOf(exp, `${P}desired_addresses`, { firewall: 'edge', group: 'f2b-ssh-v4' })).toBe(13);
    expect(valueOf(exp, `${P}pending_operations`, { firewall: 'edge', group: 'f2b-ssh-v4', op: 'add' })).toBe(0);
    expect(find(exp, `${P}desired_addresses`, { firewall: 'branch' })).toHaveLength(0);
    expect(find(exp, `${P}firewall_up`, { firewall: 'branch' })).toHaveLength(0);
    expect(valueOf(exp, `${P}last_successful_reconcile_timestamp_seconds`, { firewall: 'edge' })).toBe(T0 / 1000);
    expect(valueOf(exp, `${P}log_readable`)).toBe(0);
  });

  it('keeps separate registries apart and stays off the global registry', async () => {
    const a = createMetrics({ version: 'a' });
    const b = createMetrics({ version: 'b' });
    a.linesRead(5);
    b.linesRead(2);
    a.event('ban', 'sshd');
    const ea = await scrape(a);
    const eb = await scrape(b);
    expect(valueOf(ea, `${P}lines_total`)).toBe(5);
    expect(valueOf(eb, `${P}lines_total`)).toBe(2);
    expect(find(eb, `${P}events_total`)).toHaveLength(0);
    expect(find(eb, `${P}build_info`, { version: 'a' })).toHaveLength(0);
    expect(await globalRegistry.metrics()).not.toContain(P);
  });

  it('exports process metrics only when asked', async () => {
    const off = await scrape(createMetrics());
    expect(off.types.has('process_cpu_user_seconds_total')).toBe(false);
    const on = await scrape(createMetrics({ processMetrics: true }));
    expect(on.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(on.types.get(`${P}lines_total`)).toBe('counter');
  });

  it('bounds free-text rejection reasons', async () => {
    const m = createMetrics();
    for (let i = 0; i < 50; i++) m.lineRejected(`reason ${i}`);
    m.lineRejected('reason 3');
    const exp = await scrape(m);
    const series = find(exp, `${P}lines_rejected_total`);
    expect(series).toHaveLength(21);
    expect(valueOf(exp, `${P}lines_rejected_total`, { reason: 'reason 3' })).toBe(2);
    expect(valueOf(exp, `${P}lines_rejected_total`, { reason: 'other' })).toBe(30);
  });
});

describe('boundedLabel', () => {
  it('passes the first values, truncates long ones, maps the rest to "other"', () => {
    const label = boundedLabel(2);
    expect(label('a')).toBe('a');
    expect(label('x'.repeat(100))).toBe('x'.repeat(64));
    expect(label('c')).toBe('other');
    expect(label('a')).toBe('a');
  });
});

describe('requestOutcome', () => {
  it.each([
    ['no error', undefined, 'ok'],
    ['auth failure', errorForStatus(undefined, 'Authentication Failure'), 'auth'],
    ['API disabled (532)', errorForStatus(532, 'API disabled'), 'access'],
    ['invalid request (529)', errorForStatus(529, 'bad'), 'request'],
    ['validation (501)', errorForStatus(501, 'bad address'), 'validation'],
    ['same content exists (503)', errorForStatus(503, 'exists'), 'conflict'],
    ['referenced (504)', errorForStatus(504, 'in use'), 'referenced'],
    ['not found (526)', errorForStatus(526, 'missing'), 'not_found'],
    ['operation failed (500)', errorForStatus(500, 'failed'), 'operation'],
    ['transport', new XgTransportError('reset'), 'transport'],
    ['TLS pin mismatch (a transport error)', new TlsPinError('ab'.repeat(32), undefined), 'transport'],
    ['timeout', new XgTimeoutError('slow'), 'timeout'],
    ['auth class', new XgAuthError('nope'), 'auth'],
    ['foreign error', new Error('boom'), 'error'],
    ['non-error value', 'boom', 'error'],
  ])('%s → %s', (_name, err, outcome) => {
    expect(requestOutcome(err)).toBe(outcome);
  });
});
