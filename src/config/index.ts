/** Config: schema, loading with line-accurate errors, password resolution. */
export {
  ConfigSchema,
  DEFAULT_NEVER_BLOCK,
  parseListen,
  type Config,
  type FirewallConfig,
  type GroupConfig,
  type TlsConfig,
} from './schema.js';
export { ConfigError, PasswordError, formatIssue, type ConfigIssue } from './errors.js';
export { parseConfig, loadConfig } from './load.js';
export { resolvePassword, type ReadTextFile } from './password.js';
export { offlineWarnings } from './offline.js';
