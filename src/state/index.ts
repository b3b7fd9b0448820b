/** Durable state: atomic file replacement, the state store with recovery, the directory lock. */
export { writeFileAtomic, syncDir, nodeFs, type FsLike, type FileHandleLike, type WriteAtomicOptions } from './atomic.js';
export { StateStore, STATE_FILE, type LoadResult, type StateCodec, type StateStoreOptions } from './store.js';
export { acquireLock, isAlive, lockHolder, LOCK_FILE, type LockOwner } from './lock.js';
export { StateWriteError, StateReadError, StateLockError, type WriteStep } from './errors.js';
