export { tailFile, TailError, type TailOptions, type TailWarning, type TailWarningCode } from './tailer.js';
export { sameFile, canResume, headLength, hashHead, HEAD_BYTES, type FileIdentity } from './identity.js';
export type { TailLine } from './types.js';
export { tailSources, type TailSourcesOptions } from './sources.js';
export { parseLogPattern, isLogPattern, sourceOf, PatternError, type LogPattern } from './pattern.js';
