/** Errors of the config module. Messages never carry a password (only file and variable names). */

export interface ConfigIssue {
  file: string;
  /** 1-based line of the offending node (or of its parent when a key is missing). */
  line?: number;
  /** Dotted path such as `firewalls.main.tls.fingerprint256` or `groups[0].jails`; '' for the whole file. */
  key: string;
  message: string;
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.line !== undefined ? `${i.file}:${i.line}` : i.file;
  return i.key ? `${where} ${i.key}: ${i.message}` : `${where} ${i.message}`;
}

/** Every problem of a config file at once, one `FILE:LINE KEY: MESSAGE` per line. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly retryable = false;
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], options?: { cause?: unknown }) {
    super(issues.map(formatIssue).join('\n'), options);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** The firewall password could not be obtained (file unreadable/empty, variable unset/empty). */
export class PasswordError extends Error {
  readonly code = 'PASSWORD_UNAVAILABLE';
  readonly retryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PasswordError';
  }
}
