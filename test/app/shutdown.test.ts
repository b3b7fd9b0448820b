import { describe, expect, it } from 'vitest';
import { Shutdown } from '../../src/app/shutdown.js';

function logger() {
  const warnings: { obj: object; msg: string }[] = [];
  return { warnings, warn: (obj: object, msg: string) => void warnings.push({ obj, msg }) };
}

describe('Shutdown', () => {
  it('runs the steps last registered first', async () => {
    const order: string[] = [];
    const s = new Shutdown(logger());
    s.add(() => void order.push('lock'));
    s.add(async () => {
      await Promise.resolve();
      order.push('ports');
    });
    s.add(() => void order.push('sidecar'));
    await s.run();
    expect(order).toEqual(['sidecar', 'ports', 'lock']);
  });

  it('logs a failing step (sync throw or rejection) and still runs the others', async () => {
    const order: string[] = [];
    const log = logger();
    const s = new Shutdown(log);
    s.add(() => void order.push('lock'));
    s.add(() => {
      throw new Error('sync boom');
    });
    s.add(() => Promise.reject(new Error('async boom')));
    await s.run();
    expect(order).toEqual(['lock']);
    expect(log.warnings.map((w) => [w.msg, (w.obj as { err: Error }).err.message])).toEqual([
      ['cleanup failed', 'async boom'],
      ['cleanup failed', 'sync boom'],
    ]);
  });

  it('runs each step once, however often it is called', async () => {
    let n = 0;
    const s = new Shutdown(logger());
    s.add(() => void n++);
    await s.run();
    await s.run();
    expect(n).toBe(1);
  });
});
