/** Config: schema, loading with line-accurate errors, password resolution, jail and address helpers. */
export { ConfigSchema, DEFAULT_NEVER_BLOCK, parseListen, type Config, type FirewallConfig, type GroupConfig, type TlsConfig } from './schema.js';
export { ConfigError, PasswordError, formatIssue, type ConfigIssue } from './errors.js';
export { parseConfig, loadConfig } from './load.js';
export { resolvePassword, type ReadTextFile } from './password.js';
export { jailMatches, globToRegExp } from './glob.js';
export { makeNeverBlock, parseNetwork, overlaps, type Network } from './net.js';
