import { describe, expect, it } from 'vitest';
import { exposureWarning, isLoopback, ListenError, parseListen } from '../../src/metrics/listen.js';

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:9617', '127.0.0.1', 9617],
    ['[::1]:9617', '::1', 9617],
    ['[2001:db8::1]:80', '2001:db8::1', 80],
    [':9617', undefined, 9617],
    ['localhost:9617', 'localhost', 9617],
    ['metrics.example.org:65535', 'metrics.example.org', 65535],
    ['127.0.0.1:0', '127.0.0.1', 0],
  ])('%s → host %s port %s', (value, host, port) => {
    expect(parseListen(value)).toEqual({ host, port });
  });

  it.each([
    ['', 'not HOST:PORT'],
    ['9617', 'not HOST:PORT'],
    ['127.0.0.1', 'not HOST:PORT'],
    ['::1:9617', 'brackets'],
    ['2001:db8::1', 'brackets'],
    ['[::1]', 'the port is missing'],
    ['[127.0.0.1]:9617', 'is not an IPv6 address'],
    ['[::g]:9617', 'is not an IPv6 address'],
    ['127.0.0.1:', 'bad port ""'],
    ['127.0.0.1:65536', 'bad port "65536"'],
    ['127.0.0.1:96a7', 'bad port "96a7"'],
    ['127.0.0.1:-1', 'bad port "-1"'],
    ['127.0.0.1: 9617', 'bad port " 9617"'],
    ['999.0.0.1:9617', 'is not an IPv4 address or host name'],
    ['1.2.3:9617', 'is not an IPv4 address or host name'],
    ['bad_host:9617', 'is not an IPv4 address or host name'],
    ['http://127.0.0.1:9617', 'not HOST:PORT'],
  ])('rejects %j (%s)', (value, why) => {
    let caught: unknown;
    try {
      parseListen(value);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ListenError);
    const e = caught as ListenError;
    expect(e.code).toBe('METRICS_LISTEN_INVALID');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain(JSON.stringify(value));
    expect(e.message).toContain(why);
  });
});

describe('exposure warning (issue 11: metrics.listen beyond loopback)', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.0.2.10', false],
    ['::ffff:192.0.2.10', false],
    ['2001:db8::1', false],
    ['128.0.0.1', false],
    ['::2', false],
  ])('%s is loopback: %s', (address, loopback) => {
    expect(isLoopback(address)).toBe(loopback);
    expect(exposureWarning(address) === undefined).toBe(loopback);
  });

  it('says what is exposed and what to do', () => {
    expect(exposureWarning('::')).toBe(
      'the metrics endpoint listens on every interface, not only loopback: it has no authentication, so restrict who can reach it (firewall) or listen on 127.0.0.1',
    );
    expect(exposureWarning('192.0.2.10')).toContain('listens on 192.0.2.10, not only loopback');
  });
});
