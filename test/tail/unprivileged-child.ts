// Spawned by tailer.test.ts as root: drops to nobody, then tails a root-only file and prints the
// error it gets as JSON. Modules load before the privilege drop, so only the log file is unreadable.
import { firstValueFrom } from 'rxjs';

import { tailFile } from '../../src/tail/index.js';

const path = process.argv[2] ?? '';
process.setgid?.(65534);
process.setuid?.(65534);
try {
  const line = await firstValueFrom(tailFile({ path, startAt: 'beginning', waitForFile: false }));
  console.log(JSON.stringify({ unexpectedLine: line.line }));
} catch (e) {
  const err = e as { name?: string; code?: string; path?: string; retryable?: boolean; message?: string };
  console.log(JSON.stringify({ name: err.name, code: err.code, path: err.path, retryable: err.retryable, message: err.message }));
}
process.exit(0);
