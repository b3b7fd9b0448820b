/**
 * The minimal logger the XG adapters accept (pino's methods fit; so does a test's array).
 * Credentials must never reach it: lines are passed through src/util/mask.ts secretMasker first.
 */
export interface XgLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

export const silentLogger: XgLogger = { debug() {}, info() {}, warn() {} };
