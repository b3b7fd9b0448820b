/**
 * A starter for the concurrent-lock test (lock.test.ts): one process that takes locks on command.
 * stdin: "take DIR AT_MS" → spin until the wall clock reaches AT_MS (so all starters try at the
 * same instant), try acquireLock(DIR), answer "held DIR" or "refused DIR CODE" on stdout; locks
 * taken are kept until the process dies (a kill -9 leaves them stale).
 */
import { createInterface } from 'node:readline';
import { acquireLock } from '../../src/state/lock.js';

const kept: Array<() => Promise<void>> = [];
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, dir, at] = line.split(' ');
  if (cmd !== 'take' || dir === undefined) return;
  while (Date.now() < Number(at));
  acquireLock(dir).then(
    (release) => {
      kept.push(release);
      process.stdout.write(`held ${dir}\n`);
    },
    (err: unknown) => process.stdout.write(`refused ${dir} ${(err as { code?: string }).code ?? String(err)}\n`),
  );
});
process.stdout.write('ready\n');
