import { describe, expect, it, vi } from 'vitest';
import { request } from 'undici';
import { doc, get, groupXml, parse, set, emulatorsPerTest } from './helpers.js';

const start = emulatorsPerTest();

const TEN_MINUTES = 600_000;
const addGroup = doc(set('add', groupXml({ name: 'G' })));

/** Settles to 'pending' if the promise has not settled by the next macrotask turns. */
async function stateOf(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let s: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(
    () => (s = 'resolved'),
    () => (s = 'rejected'),
  );
  await new Promise((r) => setTimeout(r, 100));
  return s;
}

describe('fault injection', () => {
  it('write latency holds the write before it is applied; the answer still arrives', async () => {
    const f = await start({ faults: { writeLatencyMs: 30 } });
    expect(parse((await f.send(addGroup)).body).entities[0]?.status?.code).toBe(200);

    const slow = await start({ faults: { writeLatencyMs: TEN_MINUTES } });
    const pending = slow.send(addGroup);
    pending.catch(() => undefined);
    await vi.waitFor(() => expect(slow.em.stats.requests).toBe(1));
    expect(await stateOf(pending)).toBe('pending');
    expect(slow.em.model.groupByName('G')).toBeUndefined();
    // close() cuts the delay short: the held request is dropped, never applied
    await slow.close();
    await expect(pending).rejects.toThrow();
    expect(slow.em.model.groupByName('G')).toBeUndefined();
  });

  it('read latency is applied to reads and the answer arrives', async () => {
    const f = await start({ faults: { readLatencyMs: 20 } });
    expect(parse((await f.send(doc(get('IPHostGroup')))).body).entities[0]?.status?.text).toBe('No. of records Zero.');
  });

  it('requests are served one at a time unless serialize is off', async () => {
    const serial = await start({ faults: { writeLatencyMs: TEN_MINUTES } });
    const w = serial.send(addGroup);
    w.catch(() => undefined);
    await vi.waitFor(() => expect(serial.em.stats.requests).toBe(1));
    const r = serial.send(doc(''));
    r.catch(() => undefined);
    await vi.waitFor(() => expect(serial.em.stats.requests).toBe(2));
    expect(await stateOf(r)).toBe('pending');

    const parallel = await start({ faults: { writeLatencyMs: TEN_MINUTES, serialize: false } });
    const w2 = parallel.send(addGroup);
    w2.catch(() => undefined);
    await vi.waitFor(() => expect(parallel.em.stats.requests).toBe(1));
    expect(parse((await parallel.send(doc(''))).body).login).toBe('Authentication Successful');
    expect(await stateOf(w2)).toBe('pending');
  });

  it('http5xxRate 1 answers HTTP 503 with an HTML body (502 when chosen) and applies nothing', async () => {
    const f = await start({ faults: { http5xxRate: 1 } });
    const r = await f.send(addGroup);
    expect(r.status).toBe(503);
    expect(r.contentType).toMatch(/^text\/html/);
    expect(r.body).toContain('<html>');
    f.em.faults.http5xxStatus = 502;
    expect((await f.send(addGroup)).status).toBe(502);
    expect(f.em.model.groupByName('G')).toBeUndefined();
    f.em.faults.http5xxRate = 0;
    expect((await f.send(addGroup)).status).toBe(200);
  });

  it('rates are rolled with the injected random source', async () => {
    const f = await start({ faults: { http5xxRate: 0.5, random: () => 0.7 } });
    expect((await f.send(doc(''))).status).toBe(200);
    f.em.faults.random = () => 0.3;
    expect((await f.send(doc(''))).status).toBe(503);
  });

  it('resetRate 1 destroys the socket without answering; nothing is applied', async () => {
    const f = await start({ faults: { resetRate: 1 } });
    await expect(f.send(addGroup)).rejects.toThrow();
    expect(f.em.model.groupByName('G')).toBeUndefined();
    f.em.faults.resetRate = 0;
    expect((await f.send(addGroup)).status).toBe(200);
  });

  it('resetAfterCommitRate 1 applies the write, then drops the connection; reads still answer', async () => {
    const f = await start({ faults: { resetAfterCommitRate: 1 } });
    await expect(f.send(addGroup)).rejects.toThrow();
    expect(f.em.model.groupByName('G')).toBeDefined();
    const read = parse((await f.send(doc(get('IPHostGroup')))).body);
    expect(read.entities.map((e) => e.field('Name'))).toEqual(['G']);
  });

  it('down refuses every connection until switched back', async () => {
    const f = await start();
    expect((await f.send(doc(''))).status).toBe(200);
    f.em.faults.down = true;
    await expect(f.send(doc(''))).rejects.toThrow();
    await expect(f.send(addGroup)).rejects.toThrow();
    expect(f.em.model.groupByName('G')).toBeUndefined();
    f.em.faults.down = false;
    expect((await f.send(doc(''))).status).toBe(200);
  });

  it('hangMs answers later than the client waits; close() does not wait for it', async () => {
    const f = await start({ faults: { hangMs: TEN_MINUTES } });
    const r = request(f.em.url, {
      method: 'POST',
      dispatcher: f.agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ reqxml: doc('') }).toString(),
      headersTimeout: 200,
    });
    await expect(r).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    await f.close();
  });
});
