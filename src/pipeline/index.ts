export { createSidecar, DEFAULT_BATCH, DEFAULT_RESYNC_MS } from './sidecar.js';
export type { BatchOptions, ForgetResult, PipelineOptions, Sidecar, SidecarOptions } from './sidecar.js';
export {
  CheckpointSchema,
  decodeState,
  emptyState,
  encodeState,
  STATE_VERSION,
  StateFormatError,
  StateSchema,
  stateCodec,
} from './persisted.js';
export type { PersistedState, StateSink } from './persisted.js';
export type { PipelineInput } from './intake.js';
export type { AppliedNotice } from './latency-tracker.js';
export type { PersistStatus, SidecarStatus } from './status.js';
export { DEFAULT_MAX_LINE_AGE_MS, DEFAULT_SUSPEND, DesiredModel, MODEL_VERSION, deserializeModel, serializeModel } from './model.js';
export type {
  Effects,
  EntryState,
  GroupChange,
  JailEntry,
  ModelCounters,
  ModelOptions,
  Note,
  SerializedModel,
  SerializedSource,
  SourceView,
  SuspendOptions,
} from './model.js';
export { groupKey, Router } from './routing.js';
export type { GroupMapping, GroupTarget, JailMatcher, JailRoute } from './routing.js';
export { chunk, diff, plan } from './planner.js';
export type { Plan } from './planner.js';
export { DEFAULT_RETRY, retryDelay } from './backoff.js';
export type { RetryOptions } from './backoff.js';
export { flushTriggers } from './batch.js';
export type { FlushReason } from './batch.js';
export { Reconciler } from './reconciler.js';
export { DEFAULT_BREAKER, RemovalBreaker } from './breaker.js';
export type { BreakerOptions, Hold } from './breaker.js';
export type { AppliedChange, FirewallStatus, GroupStatus, ReconcilerOptions } from './reconciler.js';
export { BanLatency, DEFAULT_LATENCY_TTL_MS, FUTURE_TOLERANCE_MS, localLogTime } from './latency.js';
export type { LiveVerdict } from './latency.js';
export { isPermanent } from './log.js';
export type { ErrorInfo, PipelineLogger } from './log.js';
export { DEFAULT_MIN_PREFIX, FLOOR_REASONS, firewallNeverBlock, FirewallHostError, makeFloor } from './floor.js';
export type { Floor, FloorReason, FloorVerdict, HostResolver } from './floor.js';
