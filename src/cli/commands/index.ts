import type { CommandModule } from '../deps.js';

/**
 * Every sub-command, in the order `--help` lists them. Each module lives in its own file and
 * exports `run(args, deps)`; this list is the only place that knows them all.
 */
export async function loadCommands(): Promise<CommandModule[]> {
  const mods = await Promise.all([
    // COMMANDS (one import per line; keep this marker for tooling)
    import('./parse.js'),
    import('./run.js'),
    import('./status.js'),
    import('./seed.js'),
    import('./emulator.js'),
    import('./demo.js'),
  ]);
  return mods as CommandModule[];
}
