/**
 * A firewall port that picks up a corrected password without a restart. The password is read
 * once at start-up; when the firewall answers "authentication failure", the source (file or
 * environment) is read again and, if it now holds another password, the request is retried once
 * through a new client. An admin who fixes the password file sees the sidecar converge at its
 * next retry instead of having to restart it. (A systemd credential is copied at service start,
 * so fixing its source still needs a restart; the environment never changes in a running process.)
 *
 * While the password is refused, a call first reads the source again: a changed password is tried
 * at once (the reconciler probes every few seconds, so a fixed password file is noticed within
 * seconds), an unchanged one fails without a request — every refused login counts toward the
 * firewall's account lock-out — except once per `loginRetryMs` (the firewall side may have been
 * fixed instead: the account unlocked, its API access granted).
 */
import type { FirewallPort, GroupRef, ListWrite } from '../xg/port.js';

export interface ReloadingPortOptions {
  password: string;
  /** A port (client) that logs in with this password. */
  build: (password: string) => FirewallPort;
  /** Read the password from its configured source again. */
  reread: () => Promise<string>;
  onSecret?: (secret: string) => void;
  log: { info: (msg: string) => void };
  /** An unchanged, refused password is tried on the firewall again after this long (default 5 min). */
  loginRetryMs?: number;
  now?: () => number;
}

export const DEFAULT_LOGIN_RETRY_MS = 300_000;

const isAuthError = (err: unknown): boolean => typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'XG_AUTH';

export class ReloadingPort implements FirewallPort {
  private current: FirewallPort;
  private password: string;
  /** The password was refused: the error and when, until a login succeeds. */
  private refused: { err: unknown; at: number } | undefined;

  constructor(private readonly o: ReloadingPortOptions) {
    this.password = o.password;
    this.current = o.build(o.password);
  }

  checkLogin(): Promise<void> {
    return this.call((p) => p.checkLogin());
  }
  ensureGroup(group: GroupRef): Promise<void> {
    return this.call((p) => p.ensureGroup(group));
  }
  readGroup(group: GroupRef) {
    return this.call((p) => p.readGroup(group));
  }
  addToGroup(group: GroupRef, addresses: readonly string[]): Promise<void> {
    return this.call((p) => p.addToGroup(group, addresses));
  }
  removeFromGroup(group: GroupRef, addresses: readonly string[]): Promise<void> {
    return this.call((p) => p.removeFromGroup(group, addresses));
  }
  listOwnedHosts() {
    return this.call((p) => p.listOwnedHosts());
  }
  readLists(group: GroupRef) {
    return this.call((p) => p.readLists(group));
  }
  writeLists(group: GroupRef, steps: readonly ListWrite[]): Promise<void> {
    return this.call((p) => p.writeLists(group, steps));
  }
  readRules() {
    return this.call((p) => p.readRules());
  }
  close(): Promise<void> {
    return this.current.close();
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private async call<T>(op: (p: FirewallPort) => Promise<T>): Promise<T> {
    if (this.refused) await this.beforeRetry(this.refused);
    const port = this.current;
    try {
      const result = await op(port);
      this.refused = undefined;
      return result;
    } catch (err) {
      if (!isAuthError(err)) throw err;
      // Another call already switched to a newer password.
      if (this.current !== port) return this.attempt(op);
      // The original error is the one worth reporting when the source cannot be read now.
      const fresh = await this.o.reread().catch(() => undefined);
      if (fresh === undefined || fresh === this.password) {
        this.refused = { err, at: this.now() };
        throw err;
      }
      await this.use(fresh, port);
      return this.attempt(op);
    }
  }

  /** While refused: switch to a changed password, or fail without a request until the login retry is due. */
  private async beforeRetry(refused: { err: unknown; at: number }): Promise<void> {
    const fresh = await this.o.reread().catch(() => undefined);
    if (fresh !== undefined && fresh !== this.password) {
      await this.use(fresh, this.current);
      this.refused = undefined;
      return;
    }
    if (this.now() - refused.at < (this.o.loginRetryMs ?? DEFAULT_LOGIN_RETRY_MS)) throw refused.err;
    this.refused = undefined;
  }

  private async use(fresh: string, port: FirewallPort): Promise<void> {
    this.o.onSecret?.(fresh);
    this.password = fresh;
    if (this.current === port) {
      this.current = this.o.build(fresh);
      await port.close();
      this.o.log.info('the firewall refused the password and its source now holds another one: using it');
    }
  }

  private async attempt<T>(op: (p: FirewallPort) => Promise<T>): Promise<T> {
    try {
      const result = await op(this.current);
      this.refused = undefined;
      return result;
    } catch (err) {
      if (isAuthError(err)) this.refused = { err, at: this.now() };
      throw err;
    }
  }
}
