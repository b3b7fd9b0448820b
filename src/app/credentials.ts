/**
 * A firewall port that picks up a corrected password without a restart. The password is read
 * once at start-up; when the firewall answers "authentication failure", the source (file or
 * environment) is read again and, if it now holds another password, the request is retried once
 * through a new client. An admin who fixes the password file sees the sidecar converge at its
 * next retry instead of having to restart it. (A systemd credential is copied at service start,
 * so fixing its source still needs a restart; the environment never changes in a running process.)
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
}

const isAuthError = (err: unknown): boolean => typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'XG_AUTH';

export class ReloadingPort implements FirewallPort {
  private current: FirewallPort;
  private password: string;

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

  private async call<T>(op: (p: FirewallPort) => Promise<T>): Promise<T> {
    const port = this.current;
    try {
      return await op(port);
    } catch (err) {
      if (!isAuthError(err)) throw err;
      // Another call already switched to a newer password.
      if (this.current !== port) return op(this.current);
      // The original error is the one worth reporting when the source cannot be read now.
      const fresh = await this.o.reread().catch(() => undefined);
      if (fresh === undefined || fresh === this.password) throw err;
      this.o.onSecret?.(fresh);
      this.password = fresh;
      if (this.current === port) {
        this.current = this.o.build(fresh);
        await port.close();
        this.o.log.info('the firewall refused the password and its source now holds another one: using it');
      }
      return op(this.current);
    }
  }
}
