// Shared rig for the runtime-level tests: the real runtime (tail, parser, pipeline, XG client over
// HTTPS) against the bundled emulator, a real temp fail2ban.log, and a captured log stream.
import { chmod, mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { parseConfig, type Config } from '../../src/config/index.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { startRuntime, type Runtime } from '../../src/app/runtime.js';
import { blockedBy } from '../helpers/blocked.js';
import { createLogger, type LogFormat, type LogLevel } from '../../src/util/log.js';

export const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/fail2ban/', import.meta.url));

/** A password with every character class the masker must handle (XML, URL and JSON escapes). */
export const PASSWORD = `Pw&<x>"q'%+ 1é`;

/** The command's output in a captured client file (first line is the command, last the exit code). */
export function capturedOutput(rel: string): string {
  const lines = readFileSync(join(FIXTURES, 'client', rel), 'utf8').split('\n');
  return (
    lines
      .slice(
        1,
        lines.findIndex((l) => l.startsWith('[exit code:')),
      )
      .join('\n') + '\n'
  );
}

export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface FakeAnswer {
  stdout?: string;
  stderr?: string;
  code?: number;
  sleepSec?: number;
}

/**
 * A stand-in `fail2ban-client`: a shell script that answers each sub-command (its arguments after
 * the leading options, joined by spaces) with a canned answer, and appends every call to `calls`.
 */
export async function fakeClient(
  dir: string,
  answers: Record<string, FakeAnswer>,
): Promise<{ path: string; calls: () => Promise<string[]> }> {
  const path = join(dir, 'fail2ban-client');
  const callsFile = join(dir, 'calls.txt');
  const cases: string[] = [];
  let i = 0;
  for (const [sub, a] of Object.entries(answers)) {
    const out = join(dir, `answer-${i}.out`);
    const err = join(dir, `answer-${i++}.err`);
    await writeFile(out, a.stdout ?? '');
    await writeFile(err, a.stderr ?? '');
    cases.push(
      `  ${JSON.stringify(sub)}) ${a.sleepSec ? `sleep ${a.sleepSec}; ` : ''}cat '${out}'; cat '${err}' >&2; exit ${a.code ?? 0};;`,
    );
  }
  const script = [
    '#!/bin/sh',
    // Drop leading options (-s SOCKET, -c DIR) like the real client parses them.
    'while [ $# -gt 0 ]; do case "$1" in -s|-c) shift 2;; -*) shift;; *) break;; esac; done',
    `echo "$*" >> '${callsFile}'`,
    'case "$*" in',
    ...cases,
    `  *) echo "ERROR   NOK: ('Invalid command',)" >&2; exit 255;;`,
    'esac',
    '',
  ].join('\n');
  await writeFile(path, script);
  await chmod(path, 0o755);
  return {
    path,
    calls: async () => (await readFile(callsFile, 'utf8').catch(() => '')).split('\n').filter((l) => l !== ''),
  };
}

/** fail2ban's time stamp for `d` in the host's zone: "2026-11-25 04:39:52,876". */
export function f2bStamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
}

export function f2bLine(verb: 'Ban' | 'Unban' | 'Restore Ban', jail: string, ip: string, at = new Date()): string {
  return `${f2bStamp(at)} fail2ban.actions        [4242]: NOTICE  [${jail}] ${verb} ${ip}\n`;
}

/** A Writable collecting every line written to it. */
export class LineSink extends Writable {
  readonly lines: string[] = [];
  private rest = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    const text = this.rest + chunk.toString();
    const parts = text.split('\n');
    this.rest = parts.pop() ?? '';
    this.lines.push(...parts);
    cb();
  }
  get text(): string {
    return this.lines.join('\n') + (this.rest ? `\n${this.rest}` : '');
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface RigOptions {
  level?: LogLevel;
  format?: LogFormat;
  journal?: boolean;
  emulator?: EmulatorOptions;
  /** Extra YAML lines appended to the config. */
  extra?: string[];
  startAt?: 'end' | 'beginning';
  /** Initial content of fail2ban.log. */
  initialLog?: string;
  /** Reuse a directory (a restarted sidecar): its state and log stay. */
  dir?: string;
  /** firewalls.main.objects; unset: the schema default (lists). */
  objects?: 'lists' | 'hosts';
}

export interface Rig {
  emu: Emulator;
  dir: string;
  logPath: string;
  config: Config;
  runtime: Runtime;
  sink: LineSink;
  append(line: string): Promise<void>;
  members(group?: string): string[];
  /** What the group blocks, lists and per-address hosts alike (test/helpers/blocked.ts). */
  blocked(group?: string): string[];
  /** Stops the runtime (idempotent); the emulator and dir stay until close(). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export function rigConfig(o: {
  dir: string;
  emu: Emulator;
  startAt?: 'end' | 'beginning';
  extra?: string[];
  objects?: 'lists' | 'hosts' | undefined;
}): string {
  return [
    `log: { path: ${JSON.stringify(join(o.dir, 'fail2ban.log'))}, startAt: ${o.startAt ?? 'beginning'} }`,
    `stateDir: ${JSON.stringify(join(o.dir, 'state'))}`,
    'firewalls:',
    '  main:',
    `    url: ${o.emu.url}`,
    '    username: admin',
    '    passwordEnv: XG_PASSWORD',
    `    tls: { fingerprint256: "${o.emu.fingerprint256}" }`,
    ...(o.objects ? [`    objects: ${o.objects}`] : []),
    'groups:',
    '  - { name: f2b_blockings, ipv6Name: f2b_blockings6, firewall: main, jails: ["*"] }',
    'batch: { windowMs: 100, maxSize: 50 }',
    'retry: { initialDelayMs: 100, maxDelayMs: 400, jitter: 0 }',
    'suspend: { stopUnbanWindowMs: 200, restoreGraceMs: 1000, maxSuspendMs: 60000 }',
    ...(o.extra ?? []),
  ].join('\n');
}

export async function startRig(o: RigOptions = {}, emu?: Emulator): Promise<Rig> {
  const own = o.dir === undefined;
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'f2b-app-')));
  const e = emu ?? (await startEmulator({ users: { admin: PASSWORD }, ...o.emulator }));
  const logPath = join(dir, 'fail2ban.log');
  if (o.initialLog !== undefined || own) await writeFile(logPath, o.initialLog ?? '');
  const config = parseConfig(rigConfig({ dir, emu: e, startAt: o.startAt, extra: o.extra, objects: o.objects }), '(test config)');
  const sink = new LineSink();
  const secrets: string[] = [];
  const log = createLogger({
    level: o.level ?? 'info',
    format: o.format ?? 'text',
    destination: sink,
    secrets: () => secrets,
    journal: o.journal ?? false,
  });
  const runtime = await startRuntime({
    config,
    log,
    env: { XG_PASSWORD: PASSWORD },
    onSecret: (s) => secrets.push(s),
    version: 'test',
    follow: true,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await runtime.stop();
  };
  return {
    emu: e,
    dir,
    logPath,
    config,
    runtime,
    sink,
    append: (line) => appendFile(logPath, line),
    members: (group = 'f2b_blockings') => e.model.groupMembers(group),
    blocked: (group = 'f2b_blockings') => blockedBy(e.model, group),
    stop,
    close: async () => {
      await stop();
      if (!emu) await e.close();
      if (own) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The value of one sample in Prometheus text exposition, or undefined. */
export function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const have = (m[1] ?? '').split(',');
    if (want.every((w) => have.includes(w))) return Number(m[2]);
  }
  return undefined;
}
