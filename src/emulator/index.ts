/** The Sophos XG XML API emulator: HTTPS server, its pure object model, and the quirk switches. */
export { startEmulator, DEFAULT_FAULTS, profileFaults } from './server.js';
export { PROFILES, DEFAULT_SEED, seededRandom, jittered } from './profile.js';
export type { LatencyProfile, ProfileName } from './profile.js';
export type { Emulator, EmulatorDump, EmulatorOptions, EmulatorStats, Faults } from './server.js';
export { EmulatorModel, SeedError, SYSTEM_HOSTS } from './model.js';
export type {
  Filter,
  GroupInput,
  GroupView,
  HostInput,
  HostView,
  IPFamily,
  HostType,
  ModelDump,
  Result,
  RuleView,
  SetMode,
} from './model.js';
export { DEFAULT_QUIRKS, STATUS_TEXT } from './quirks.js';
export type { Quirks } from './quirks.js';
export { persistentTls, fingerprint256, CERT_FILE, KEY_FILE } from './tls.js';
