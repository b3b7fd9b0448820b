import type { CommandModule } from '../deps.js';

type Loader = () => Promise<unknown>;

/**
 * Every sub-command, in the order `--help` lists them, with the names each module registers.
 * Each module lives in its own file and exports `run(args, deps)`; this table is the only place
 * that knows them all.
 */
const COMMANDS: readonly { names: readonly string[]; load: Loader }[] = [
  { names: ['parse'], load: () => import('./parse.js') },
  { names: ['run'], load: () => import('./run.js') },
  { names: ['plan'], load: () => import('./plan.js') },
  { names: ['status'], load: () => import('./status.js') },
  { names: ['release'], load: () => import('./release.js') },
  { names: ['forget'], load: () => import('./forget.js') },
  { names: ['replay'], load: () => import('./replay.js') },
  { names: ['start', 'stop', 'check', 'flush', 'ban', 'unban'], load: () => import('./oneshot.js') },
  { names: ['emulator'], load: () => import('./emulator.js') },
  { names: ['demo'], load: () => import('./demo.js') },
];

/**
 * The modules to register. When the first argument names a command, only its module is loaded:
 * the others pull in undici, the emulator, pino and the pipeline, which cost `parse` (a filter in
 * shell pipelines) more start-up time than the parsing itself. Anything else (`--help`, a typo)
 * loads them all, so help and "unknown command" stay complete.
 */
export async function loadCommands(argv: readonly string[] = []): Promise<CommandModule[]> {
  const first = argv[0];
  const one = COMMANDS.find((c) => first !== undefined && c.names.includes(first));
  const mods = await Promise.all((one ? [one] : COMMANDS).map((c) => c.load()));
  return mods as CommandModule[];
}
