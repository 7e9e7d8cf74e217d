import type { CommandSpec, Flags } from './args.ts';

export interface Io {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
}

/**
 * The reporters' names for the help texts: the runner's REPORTER_NAMES (a test keeps the two equal),
 * written out so that this table loads nothing.
 */
export const REPORTER_LIST = 'junit, markdown, html, json';

const matrixOption = { matrix: { type: 'string', help: 'matrix file (default ./matrix.yaml)' } } as const;

/** Options shared by the commands that read results and write reports. */
const reportOptions = {
  ...matrixOption,
  layer: { type: 'string', help: 'only these layers (default all)' },
  results: { type: 'string', help: 'results directory (default .faultline/results)' },
  out: { type: 'string', help: 'reports directory (default reports)' },
  reporter: { type: 'string', help: `reports to write, comma-separated: ${REPORTER_LIST} (default all)` },
} as const;

/**
 * Every command: what its --help shows, and its implementation, imported when the command runs, so a
 * command loads only what it needs (validate the matrix package, run what running takes) and `--help`
 * nothing at all.
 */
export const commands: Record<string, CommandSpec & { run: (io: Io, flags: Flags) => Promise<number> | number }> = {
  validate: {
    summary: 'check matrix.yaml and that every layer project exists',
    usage: 'faultline validate [--matrix FILE]',
    options: { ...matrixOption },
    async run(io, flags) {
      return (await import('./validate.ts')).validateCommand(io, flags);
    },
  },
  list: {
    summary: 'list issues with their required layers and current state',
    usage: 'faultline list [--layer L] [--issue ID] [--json]',
    options: {
      ...matrixOption,
      layer: { type: 'string', help: 'only issues required in these layers (comma-separated)' },
      issue: { type: 'string', help: 'only this issue' },
      json: { type: 'boolean', help: 'print JSON' },
      results: { type: 'string', help: 'results directory (default .faultline/results)' },
    },
    async run(io, flags) {
      return (await import('./results-commands.ts')).listCommand(io, flags);
    },
  },
  run: {
    summary: 'run the layered suites and write .faultline/results/<layer>.json',
    usage:
      'faultline run [--layer L,...] [--issue ID] [--seed N] [--repeat N] [--shard i/n] [--backend B] [--toxiproxy-url URL] [--gate]',
    options: {
      ...matrixOption,
      layer: { type: 'string', help: 'layers to run, comma-separated (default all)' },
      issue: { type: 'string', help: 'only tests tagged with this issue' },
      seed: {
        type: 'string',
        help: 'seed for failpoint probabilities, kill timing, toxicity (default random, printed)',
      },
      repeat: {
        type: 'string',
        help: 'run the selected tests N times, attempt k with its own seed derived from --seed; mixed cells are flaky',
      },
      shard: { type: 'string', help: 'run shard i of n of each layer (merge later)' },
      'run-id': {
        type: 'string',
        help: 'the run the results belong to, shared by its shards (default $FAULTLINE_RUN_ID, else seed-N for a shard, else new)',
      },
      backend: { type: 'string', help: 'layer-3 backend: auto | embedded | containers | external' },
      'toxiproxy-url': {
        type: 'string',
        help: 'layer-3 external backend: a running Toxiproxy API URL (default $FAULTLINE_TOXIPROXY_URL, else the layer toxiproxyUrl); auto then picks external',
      },
      results: { type: 'string', help: 'results directory (default .faultline/results)' },
      gate: { type: 'boolean', help: 'then gate and write reports; exit code is the gate' },
      out: { type: 'string', help: 'with --gate: reports directory (default reports)' },
      reporter: { type: 'string', help: `with --gate: reports to write (${REPORTER_LIST}; default all)` },
    },
    async run(io, flags) {
      return (await import('./run-command.ts')).runCommand(io, flags);
    },
  },
  gate: {
    summary: 'judge the results against the matrix policy; write reports; exit 0 passed, 1 failed',
    usage: 'faultline gate [--layer L,...] [--results DIR] [--out DIR]',
    options: reportOptions,
    async run(io, flags) {
      return (await import('./gate-command.ts')).gateFromFlags(io, flags, true);
    },
  },
  report: {
    summary: 'write the reports (JUnit, Markdown, JSON) without failing on the gate',
    usage: 'faultline report [--layer L,...] [--results DIR] [--out DIR]',
    options: reportOptions,
    async run(io, flags) {
      return (await import('./gate-command.ts')).gateFromFlags(io, flags, false);
    },
  },
  merge: {
    summary: 'merge the results of shards and jobs into one results file per layer (and their verify.json into one)',
    usage: 'faultline merge --from DIR[,DIR...] [--results DIR] [--allow-partial]',
    options: {
      ...matrixOption,
      from: { type: 'string', help: 'directories searched (recursively) for results files; default the results dir' },
      results: { type: 'string', help: 'where merged <layer>.json files go (default .faultline/results)' },
      'allow-partial': { type: 'boolean', help: 'merge even when a shard is missing' },
    },
    async run(io, flags) {
      return (await import('./results-commands.ts')).mergeCommand(io, flags);
    },
  },
  init: {
    summary: 'scaffold matrix.yaml, an l1 layer with an example test, and a GitHub Actions workflow',
    usage: 'faultline init [--dir DIR] [--dry-run]',
    options: {
      dir: { type: 'string', help: 'the project to set up (default: the current directory; needs a package.json)' },
      'dry-run': { type: 'boolean', help: 'print the files it would write; write nothing' },
    },
    async run(io, flags) {
      return (await import('./init.ts')).initCommand(io, flags);
    },
  },
  diff: {
    summary: 'what changed between two matrix.json files or two results directories, regressions first',
    usage: 'faultline diff BASE HEAD [--json] [--fail-on regression] [--matrix FILE]',
    positionals: ['base', 'head'],
    options: {
      ...matrixOption,
      json: { type: 'boolean', help: 'print the diff as JSON' },
      'fail-on': { type: 'string', help: 'regression: exit 1 when a covered cell got worse' },
    },
    async run(io, flags) {
      return (await import('./results-commands.ts')).diffCommand(io, flags);
    },
  },
  verify: {
    summary: 'run each declared break (FAULTLINE_BREAK=<name>) and expect its cell to turn red; write verify.json',
    usage:
      'faultline verify [--issue ID,...] [--break NAME,...] [--layer L,...] [--seed N] [--jobs N] [--results DIR] [--matrix FILE]',
    options: {
      ...matrixOption,
      issue: { type: 'string', help: 'only the breaks of these issues (comma-separated)' },
      break: { type: 'string', help: 'only the breaks of these names (comma-separated)' },
      layer: { type: 'string', help: 'only breaks in these layers (comma-separated)' },
      seed: { type: 'string', help: 'seed of every run (default random, printed)' },
      jobs: { type: 'string', help: 'breaks run at once, each in its own scratch dir (default 1)' },
      results: {
        type: 'string',
        help: 'results directory: the latest run (controls) and verify.json (default .faultline/results)',
      },
    },
    async run(io, flags) {
      return (await import('./verify-command.ts')).verifyCommand(io, flags);
    },
  },
  doctor: {
    summary: 'report what this machine can run: Node, layer-3 backends, rlimits, tools',
    usage: 'faultline doctor [--json]',
    options: { ...matrixOption, json: { type: 'boolean', help: 'print JSON' } },
    async run(io, flags) {
      return (await import('./doctor.ts')).doctorCommand(io, flags);
    },
  },
};
