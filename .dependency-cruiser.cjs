/* global module -- CommonJS: dependency-cruiser loads its config with require */
/**
 * The rooms of src/ and who may enter which (`npm run lint:deps`, part of `npm test`).
 *
 * Layers, lowest first; a room imports only rooms listed before it (and itself):
 *
 *   core                  addresses, networks, globs, shared types: imports nothing of the project
 *   util                  generic helpers (errno texts, logging)            → core
 *   parser                one line → one event, pure                        → core
 *   tail, state, xg,      edges with one job each: the log, the durable     → core, util
 *   emulator              file, the firewall (port + adapters), the fake XG
 *   pipeline              model, planner, batching, reconciler              → core, util, parser, tail, xg's port
 *   metrics               Prometheus, health, status                        → the rooms above
 *   config                the file's schema; reads the rooms' defaults      → the rooms above except metrics
 *   app                   wiring                                            → everything but cli and emulator
 *   cli                   one main, one file per command: wiring only       → everything
 *
 * The README's arrow (tail → parser → pipeline → state → xg) is the flow of data; in imports the
 * pipeline sits above the edges it drives, and only app/cli put them together.
 */

/** Rooms a room may import besides itself. */
const LAYERS = {
  core: [],
  util: ['core'],
  parser: ['core'],
  tail: ['core', 'util'],
  state: ['core', 'util'],
  xg: ['core', 'util'],
  emulator: ['core', 'util'],
  pipeline: ['core', 'util', 'parser', 'tail', 'xg'],
  metrics: ['core', 'util', 'parser', 'tail', 'state', 'xg', 'pipeline'],
  config: ['core', 'util', 'parser', 'tail', 'state', 'xg', 'pipeline'],
  app: ['core', 'util', 'parser', 'tail', 'state', 'xg', 'pipeline', 'metrics', 'config'],
};

const rooms = Object.keys(LAYERS).concat('cli');
const anyRoomBut = (allowed) => `^src/(?!(?:${allowed.join('|')})/)[^/]+/`;

const layerRules = Object.entries(LAYERS).map(([room, allowed]) => ({
  name: `layer-${room}`,
  comment: allowed.length
    ? `src/${room} may import only ${allowed.map((r) => `src/${r}`).join(', ')} (see the layer list at the top of this file)`
    : `src/${room} imports nothing else of the project`,
  severity: 'error',
  from: { path: `^src/${room}/` },
  to: { path: anyRoomBut([room, ...allowed]) },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'pipeline-only-through-the-port',
      comment: 'The pipeline talks to firewalls through the port (src/xg/port.ts); the adapters are chosen by app',
      severity: 'error',
      from: { path: '^src/pipeline/' },
      to: { path: '^src/xg/', pathNot: '^src/xg/port\\.ts$' },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'src/cli is the outermost wiring: nothing in src imports it',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'cli-commands-are-wiring',
      comment:
        'A command wires rooms together; what two commands share (or an engine a command runs) lives in a room, not in a sibling command',
      severity: 'error',
      from: { path: '^src/cli/commands/(?!index\\.ts$)' },
      to: { path: '^src/cli/commands/' },
    },
    {
      name: 'only-cli-imports-emulator',
      comment: 'The XG emulator is for tests and the demo: in src only the CLI (demo, emulator commands) imports it',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli|emulator)/' },
      to: { path: '^src/emulator/' },
    },
    {
      name: 'unknown-room',
      comment: `A new folder under src/ needs a place in the layer list of .dependency-cruiser.cjs (known: ${rooms.join(', ')})`,
      severity: 'error',
      from: { path: `^src/(?!(?:${rooms.join('|')})/)` },
      to: {},
    },
    {
      name: 'no-circular',
      comment: 'No module cycles (type-only imports included: they are cycles for the reader too)',
      severity: 'error',
      from: { path: '^(src|bench)/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      comment: 'No cycles between the rooms of src/',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/[^/]+/?$' },
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import that does not resolve is a typo or a missing dependency',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
