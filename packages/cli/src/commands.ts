import { existsSync, globSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  computeCoverage,
  didYouMean,
  type GateReason,
  gate,
  type LayerResults,
  type LoadedMatrix,
  loadMatrix,
  MatrixError,
  plural,
  requiredLayers,
  VERIFY_FILE,
  type Verdict,
} from '@faultline/matrix';
import {
  DiffInputError,
  diffMarkdown,
  diffReports,
  gateAndReport,
  INTERRUPT_EXIT,
  interruptOnSignals,
  isLayerResultsName,
  isReporterName,
  lineProgress,
  MAX_REPEAT,
  type MatrixReport,
  matrixDigest,
  matrixReport,
  mergeResults,
  parseMatrixReport,
  planRun,
  REPORTER_NAMES,
  type ReporterName,
  type RunInterrupted,
  readResultsDir,
  readResultsEntries,
  readResultsFile,
  resultsFiles,
  resultsSetProblems,
  runLayers,
  ttyProgress,
  writeResults,
} from '@faultline/runner';
import { type CommandSpec, ConfigError, type Flags, integer, list, shard, UsageError } from './args.ts';
import { doctor } from './doctor.ts';
import { planInit, shown, writeInit } from './init.ts';
import {
  checkBreakNames,
  mergeVerifyFiles,
  readVerifyResults,
  runVerify,
  VerifyInterrupted,
  verifySummary,
} from './verify.ts';

export interface Io {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
}

const matrixOption = { matrix: { type: 'string', help: 'matrix file (default ./matrix.yaml)' } } as const;

/** Options shared by the commands that read results and write reports. */
const reportOptions = {
  ...matrixOption,
  layer: { type: 'string', help: 'only these layers (default all)' },
  results: { type: 'string', help: 'results directory (default .faultline/results)' },
  out: { type: 'string', help: 'reports directory (default reports)' },
  reporter: { type: 'string', help: `reports to write, comma-separated: ${REPORTER_NAMES.join(', ')} (default all)` },
} as const;

function load(flags: Flags): LoadedMatrix {
  return loadMatrix(resolve(typeof flags.matrix === 'string' ? flags.matrix : 'matrix.yaml'));
}

function checkLayers(loaded: LoadedMatrix, layers: string[] | undefined): string[] | undefined {
  const known = Object.keys(loaded.matrix.layers);
  for (const l of layers ?? []) {
    if (!known.includes(l))
      throw new UsageError(`unknown layer "${l}" (layers of ${loaded.file}: ${known.join(', ')})`);
  }
  return layers;
}

function checkIssue(loaded: LoadedMatrix, issue: string | boolean | undefined): string | undefined {
  if (typeof issue !== 'string') return undefined;
  if (!loaded.matrix.issues.some((i) => i.id === issue)) {
    throw new UsageError(`unknown issue "${issue}" (see \`faultline list\`)`);
  }
  return issue;
}

function resultsDir(loaded: LoadedMatrix, flags: Flags): string {
  return typeof flags.results === 'string'
    ? resolve(flags.results)
    : join(resolve(loaded.file, '..'), '.faultline', 'results');
}

/**
 * Each layer's duration in the last run of the same selection (whole layer, or the same --issue), for the
 * live estimate of time left. Unreadable or missing results give no estimate, never an error.
 */
function lastDurations(dir: string, issue: string | undefined): (layer: string) => number | undefined {
  let entries: ReturnType<typeof readResultsEntries> = [];
  try {
    entries = readResultsEntries(dir);
  } catch {
    return () => undefined;
  }
  return (layer) =>
    entries.find((e) => e.results.layer === layer && e.results.run.issueFilter === issue && !e.results.shard)?.results
      .run.durationMs;
}

/** One gate reason, and its detail (a failed test's error lines, the diff) indented under it. */
function printReason(io: Io, mark: string, reason: GateReason): void {
  io.out.write(`  ${mark} ${reason.message}\n`);
  // Test text never moves the terminal's cursor.
  const detail = reason.detail?.replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, '?');
  for (const line of detail?.split('\n') ?? []) io.out.write(`      ${line}\n`);
}

function printVerdict(io: Io, verdict: Verdict, written: string[]): void {
  for (const f of verdict.failures) printReason(io, '✗', f);
  for (const w of verdict.warnings) printReason(io, '!', w);
  io.out.write(`reports: ${written.join(', ')}\n`);
}

/**
 * The results of the gated layers, refused (exit 2, one line per file) when they mix runs of a layer or
 * were run against another matrix: the gate must know what it is looking at.
 */
function gatedResults(loaded: LoadedMatrix, flags: Flags, layers: string[] | undefined): LayerResults[] {
  const entries = readResultsEntries(resultsDir(loaded, flags)).filter(
    (e) => !layers || layers.includes(e.results.layer),
  );
  const problems = resultsSetProblems(entries, matrixDigest(loaded.file), loaded.file);
  if (problems.length) throw new MatrixError(problems);
  return entries.map((e) => e.results);
}

/** `--reporter junit,html`: names of REPORTERS, each once; a typo suggests the nearest. */
function reporterFlag(value: string | boolean | undefined): ReporterName[] | undefined {
  const names = list(value);
  if (!names) return undefined;
  for (const name of names) {
    if (!isReporterName(name)) {
      throw new UsageError(
        `unknown reporter "${name}"${didYouMean(name, REPORTER_NAMES)}; reporters: ${REPORTER_NAMES.join(', ')}`,
      );
    }
  }
  if (!names.length) throw new UsageError(`--reporter takes reporter names: ${REPORTER_NAMES.join(', ')}`);
  return [...new Set(names)] as ReporterName[];
}

function gateCommand(io: Io, loaded: LoadedMatrix, flags: Flags, enforce: boolean): number {
  const layers = checkLayers(loaded, list(flags.layer));
  // The matrix's projects must still name real directories: a typo is a config error, not a gate verdict.
  planRun(loaded, layers ? { layers } : {});
  const runs = gatedResults(loaded, flags, layers);
  const verify = readVerifyResults(resultsDir(loaded, flags));
  const reporters = reporterFlag(flags.reporter);
  const { coverage, verdict, written, annotations } = gateAndReport(loaded, runs, {
    ...(layers ? { layers } : {}),
    ...(reporters ? { reporters } : {}),
    ...(typeof flags.out === 'string' ? { outDir: flags.out } : {}),
    ...(verify ? { verify } : {}),
  });
  const c = coverage.counts;
  io.out.write(
    `matrix ${loaded.matrix.system}: ${c.covered} covered, ${c.failed} failed, ${c.vacuous} vacuous, ${c['not-run']} not run, ${c.missing} missing, ${c.planned} planned\n`,
  );
  printVerdict(io, verdict, written);
  if (process.env.GITHUB_ACTIONS === 'true') for (const a of annotations) io.out.write(`${a}\n`);
  io.out.write(`gate: ${verdict.passed ? 'passed' : 'FAILED'}\n`);
  return enforce && !verdict.passed ? 1 : 0;
}

function runIdFlag(value: string): string {
  if (!/^[\w.-]{1,100}$/.test(value)) {
    throw new UsageError(`--run-id takes letters, digits, '.', '_' and '-' (at most 100); got "${value}"`);
  }
  return value;
}

function repeatFlag(value: string | boolean | undefined): number | undefined {
  const n = integer('repeat', value);
  if (n !== undefined && (n < 1 || n > MAX_REPEAT)) {
    throw new UsageError(`--repeat takes 1 to ${MAX_REPEAT} attempts; got ${n}`);
  }
  return n;
}

/** Under --repeat: each required cell's pass rate, and the command that replays each failing seed. */
function printPassRates(io: Io, loaded: LoadedMatrix, results: readonly LayerResults[]): void {
  const layers = [...new Set(results.map((r) => r.layer))];
  const coverage = computeCoverage(loaded.matrix, results, { layers });
  for (const c of coverage.cells) {
    if (!c.required || !c.attempts) continue;
    const { passed, total, replay } = c.attempts;
    io.out.write(`  ${c.layer} ${c.issue}: ${c.state} ${passed}/${total}\n`);
    for (const command of replay) io.out.write(`    replay: ${command}\n`);
  }
}

/** One side of `faultline diff`: a matrix.json, or a results directory gated against the matrix. */
function diffInput(path: string, flags: Flags): MatrixReport {
  if (!existsSync(path)) throw new DiffInputError(`${path}: no such file or directory`);
  if (!statSync(path).isDirectory()) return parseMatrixReport(readFileSync(path, 'utf8'), path);
  const runs = readResultsDir(path);
  if (!runs.length) throw new DiffInputError(`${path}: a directory with no results files (<layer>.json)`);
  const loaded = load(flags);
  const coverage = computeCoverage(loaded.matrix, runs, { layers: [...new Set(runs.map((r) => r.layer))] });
  return matrixReport(loaded.matrix, coverage, gate(coverage, loaded.matrix.policy), runs);
}

function diffCommand(io: Io, flags: Flags): number {
  const failOn = flags['fail-on'];
  if (failOn !== undefined && failOn !== 'regression') {
    throw new UsageError(`--fail-on takes "regression"; got "${String(failOn)}"`);
  }
  if (typeof flags.base !== 'string' || typeof flags.head !== 'string') {
    throw new UsageError('diff needs BASE and HEAD: two matrix.json files or two results directories');
  }
  try {
    const d = diffReports(diffInput(flags.base, flags), diffInput(flags.head, flags), {
      base: flags.base,
      head: flags.head,
    });
    io.out.write(flags.json ? `${JSON.stringify(d, null, 2)}\n` : diffMarkdown(d));
    return failOn === 'regression' && d.regressions.length ? 1 : 0;
  } catch (error) {
    if (error instanceof DiffInputError) throw new ConfigError(error.message);
    throw error;
  }
}

/** The one line an interrupted run ends with, naming what it stopped and what it kept; 130 or 143. */
function reportInterrupt(io: Io, i: RunInterrupted, files: readonly string[]): number {
  const stopped = i.layer
    ? `stopped ${i.layer} worker and ${plural(i.stopped, 'process', 'processes')}${i.containers ? `, removed ${plural(i.containers, 'container', 'containers')}` : ''}`
    : 'between layers';
  const kept = i.kept.length ? `${i.kept.join(', ')} results kept` : 'no layer had finished';
  const marked = i.layer ? `; ${i.layer} results marked interrupted` : '';
  io.err.write(`faultline: interrupted (${i.signal}): ${stopped}; ${kept}${marked}\n`);
  if (files.length) io.out.write(`results: ${files.join(', ')}\n`);
  return i.signal === 'abort' ? INTERRUPT_EXIT.SIGINT : INTERRUPT_EXIT[i.signal];
}

/** `word` as one shell word (quoted when it holds anything but safe characters). */
function shellWord(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

export const commands: Record<string, CommandSpec & { run: (io: Io, flags: Flags) => Promise<number> | number }> = {
  validate: {
    summary: 'check matrix.yaml and that every layer project exists',
    usage: 'faultline validate [--matrix FILE]',
    options: { ...matrixOption },
    run(io, flags) {
      const loaded = load(flags);
      const plan = planRun(loaded);
      const cells = loaded.matrix.issues.reduce((n, i) => n + requiredLayers(loaded.matrix, i).size, 0);
      io.out.write(
        `${loaded.file}: ok: ${plural(loaded.matrix.issues.length, 'issue')}, ${plural(plan.layers.length, 'layer')}, ${plural(cells, 'required cell')}\n`,
      );
      return 0;
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
    run(io, flags) {
      const loaded = load(flags);
      const layers = checkLayers(loaded, list(flags.layer));
      const issue = checkIssue(loaded, flags.issue);
      const coverage = computeCoverage(loaded.matrix, readResultsDir(resultsDir(loaded, flags)));
      const rows = loaded.matrix.issues
        .filter((i) => !issue || i.id === issue)
        .map((i) => ({ issue: i, required: [...requiredLayers(loaded.matrix, i)] }))
        .filter((r) => !layers || r.required.some((l) => layers.includes(l)))
        .map((r) => ({
          id: r.issue.id,
          ref: r.issue.ref,
          severity: r.issue.severity,
          status: r.issue.status,
          title: r.issue.title,
          cells: Object.fromEntries(
            coverage.cells.filter((c) => c.issue === r.issue.id && c.required).map((c) => [c.layer, c.state]),
          ),
        }));
      if (flags.json) {
        io.out.write(`${JSON.stringify(rows, null, 2)}\n`);
        return 0;
      }
      const width = Math.max(...rows.map((r) => r.id.length), 5);
      for (const r of rows) {
        const cells = Object.entries(r.cells)
          .map(([l, s]) => `${l}:${s}`)
          .join(' ');
        io.out.write(`${r.id.padEnd(width)}  ${r.severity.padEnd(8)}  ${cells.padEnd(36)}  ${r.title}\n`);
      }
      return 0;
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
      reporter: { type: 'string', help: `with --gate: reports to write (${REPORTER_NAMES.join(', ')}; default all)` },
    },
    async run(io, flags) {
      const loaded = load(flags);
      const layers = checkLayers(loaded, list(flags.layer));
      const issue = checkIssue(loaded, flags.issue);
      const backend = typeof flags.backend === 'string' ? flags.backend : undefined;
      if (backend && !['auto', 'embedded', 'containers', 'external'].includes(backend)) {
        throw new UsageError(`--backend takes auto, embedded, containers or external; got "${backend}"`);
      }
      const toxiproxyUrl = flags['toxiproxy-url'];
      if (typeof toxiproxyUrl === 'string') {
        if (!/^https?:\/\/[^\s/]+\/?$/.test(toxiproxyUrl)) {
          throw new UsageError(
            `--toxiproxy-url takes a Toxiproxy API URL such as http://127.0.0.1:8474; got "${toxiproxyUrl}"`,
          );
        }
        process.env.FAULTLINE_TOXIPROXY_URL = toxiproxyUrl; // the layers' test processes inherit it
      }
      const seed = integer('seed', flags.seed);
      const shardSpec = shard(flags.shard);
      const repeat = repeatFlag(flags.repeat);
      const live = io.err.isTTY && !process.env.CI;
      const progress = live
        ? ttyProgress(io.err, { expectedMs: lastDurations(resultsDir(loaded, flags), issue) })
        : lineProgress(io.err);
      const interrupt = interruptOnSignals();
      const outcome = await runLayers(loaded, {
        progress,
        signal: interrupt.signal,
        ...(layers ? { layers } : {}),
        ...(issue ? { issue } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(repeat !== undefined ? { repeat } : {}),
        ...(shardSpec ? { shard: shardSpec } : {}),
        ...(typeof flags['run-id'] === 'string' ? { runId: runIdFlag(flags['run-id']) } : {}),
        ...(backend ? { backend } : {}),
        ...(typeof flags.results === 'string' ? { resultsDir: resolve(flags.results) } : {}),
      }).finally(() => interrupt.dispose());
      if (outcome.interrupted) return reportInterrupt(io, outcome.interrupted, outcome.files);
      const tests = outcome.results.flatMap((r) => r.tests);
      const failed = tests.filter((t) => t.state === 'failed').length;
      const errors = outcome.results.flatMap((r) => r.errors).length;
      io.out.write(
        `run ${outcome.runId}, seed ${outcome.seed} (replay with --seed ${outcome.seed}); ${plural(tests.length, 'test')}, ${failed} failed, ${plural(errors, 'file error')}\n`,
      );
      io.out.write(`results: ${outcome.files.join(', ')}\n`);
      if (repeat !== undefined && repeat > 1) {
        io.out.write(`repeat ${repeat}: attempt seeds ${outcome.results[0]?.run.repeat?.seeds.join(', ') ?? ''}\n`);
        printPassRates(io, loaded, outcome.results);
      }
      if (flags.gate)
        return gateCommand(io, loaded, { ...flags, ...(layers ? { layer: layers.join(',') } : {}) }, true);
      return failed || errors ? 1 : 0;
    },
  },
  gate: {
    summary: 'judge the results against the matrix policy; write reports; exit 0 passed, 1 failed',
    usage: 'faultline gate [--layer L,...] [--results DIR] [--out DIR]',
    options: reportOptions,
    run(io, flags) {
      return gateCommand(io, load(flags), flags, true);
    },
  },
  report: {
    summary: 'write the reports (JUnit, Markdown, JSON) without failing on the gate',
    usage: 'faultline report [--layer L,...] [--results DIR] [--out DIR]',
    options: reportOptions,
    run(io, flags) {
      return gateCommand(io, load(flags), flags, false);
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
    run(io, flags) {
      const loaded = load(flags);
      const out = resultsDir(loaded, flags);
      const dirs = list(flags.from)?.map((d) => resolve(d)) ?? [out];
      const files = dirs.flatMap((dir) =>
        existsSync(dir)
          ? globSync('**/*.json', { cwd: dir })
              .filter((f) => isLayerResultsName(basename(f)))
              .sort()
              .map((f) => join(dir, f))
          : [],
      );
      const verifyFiles = dirs.flatMap((dir) =>
        existsSync(dir)
          ? globSync(`**/${VERIFY_FILE}`, { cwd: dir })
              .sort()
              .map((f) => join(dir, f))
          : [],
      );
      const inputs = files.map(readResultsFile);
      if (inputs.length === 0) throw new UsageError(`no results files under ${dirs.join(', ')}`);
      const { merged, problems } = mergeResults(inputs);
      for (const p of problems) io.err.write(`faultline merge: ${p.message}\n`);
      if (problems.some((p) => p.refuse)) return 2;
      if (problems.some((p) => p.message.includes('missing')) && !flags['allow-partial']) {
        io.err.write(
          'faultline merge: refusing to merge an incomplete set of shards (pass --allow-partial to merge anyway)\n',
        );
        return 2;
      }
      // Shard files in the output directory are now inside the merged files: remove them so
      // a later gate does not count their tests twice.
      for (const file of resultsFiles(out)) {
        if (/\.\d+of\d+\.json$/.test(file)) rmSync(file);
      }
      for (const r of merged) {
        const file = writeResults(out, r);
        io.out.write(
          `${r.layer}: ${plural(r.tests.length, 'test')} from ${plural(inputs.filter((x) => x.layer === r.layer).length, 'file')} -> ${file}\n`,
        );
      }
      if (verifyFiles.length > 0) {
        const v = mergeVerifyFiles(verifyFiles, out);
        io.out.write(`verify: ${plural(v.breaks, 'break')} from ${plural(verifyFiles.length, 'file')} -> ${v.file}\n`);
      }
      return 0;
    },
  },
  init: {
    summary: 'scaffold matrix.yaml, an l1 layer with an example test, and a GitHub Actions workflow',
    usage: 'faultline init [--dir DIR] [--dry-run]',
    options: {
      dir: { type: 'string', help: 'the project to set up (default: the current directory; needs a package.json)' },
      'dry-run': { type: 'boolean', help: 'print the files it would write; write nothing' },
    },
    run(io, flags) {
      const plan = planInit(typeof flags.dir === 'string' ? flags.dir : '.');
      if (flags['dry-run']) {
        for (const f of plan.files) {
          io.out.write(`would write ${shown(join(plan.dir, f.path))} (${f.text.split('\n').length - 1} lines)\n`);
        }
        io.out.write('dry run: nothing written\n');
        return 0;
      }
      for (const file of writeInit(plan)) io.out.write(`wrote ${shown(file)}\n`);
      if (!plan.ignoresOutput) {
        // Run output in git is noise, and Nx only caches a layer whose own outputs are not among its inputs.
        io.out.write('note: add .faultline/ and reports/ to .gitignore (run output)\n');
      }
      const steps = [
        ...(plan.dir === process.cwd() ? [] : [`cd ${shellWord(shown(plan.dir))}`]),
        ...(plan.missing.length ? [`npm i -D ${plan.missing.join(' ')}`] : []),
        'npx faultline run --gate',
      ];
      io.out.write(`next: ${steps.join(' && ')}\n`);
      return 0;
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
    run(io, flags) {
      return diffCommand(io, flags);
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
      const loaded = load(flags);
      const layers = checkLayers(loaded, list(flags.layer));
      const issues = list(flags.issue)?.map((id) => checkIssue(loaded, id) as string);
      const names = checkBreakNames(loaded, list(flags.break));
      const jobs = integer('jobs', flags.jobs);
      if (jobs !== undefined && (jobs < 1 || jobs > 16)) throw new UsageError(`--jobs takes 1 to 16; got ${jobs}`);
      const seed = integer('seed', flags.seed);
      const interrupt = interruptOnSignals();
      let outcome: Awaited<ReturnType<typeof runVerify>>;
      try {
        outcome = await runVerify(loaded, {
          signal: interrupt.signal,
          resultsDir: resultsDir(loaded, flags),
          log: (line) => io.out.write(`${line}\n`),
          ...(issues ? { issues } : {}),
          ...(names ? { names } : {}),
          ...(layers ? { layers } : {}),
          ...(seed !== undefined ? { seed } : {}),
          ...(jobs !== undefined ? { jobs } : {}),
        });
      } catch (error) {
        if (!(error instanceof VerifyInterrupted)) throw error;
        io.err.write(`faultline verify: ${error.message}\n`);
        return error.signal === 'SIGTERM' ? INTERRUPT_EXIT.SIGTERM : INTERRUPT_EXIT.SIGINT;
      } finally {
        interrupt.dispose();
      }
      io.out.write(`${verifySummary(outcome)}\n`);
      return outcome.breaks.every((b) => b.outcome === 'caught') ? 0 : 1;
    },
  },
  doctor: {
    summary: 'report what this machine can run: Node, layer-3 backends, rlimits, tools',
    usage: 'faultline doctor [--json]',
    options: { ...matrixOption, json: { type: 'boolean', help: 'print JSON' } },
    async run(io, flags) {
      const matrixPath = resolve(typeof flags.matrix === 'string' ? flags.matrix : 'matrix.yaml');
      const checks = await doctor(existsSync(matrixPath) ? matrixPath : undefined);
      if (flags.json) io.out.write(`${JSON.stringify(checks, null, 2)}\n`);
      else for (const c of checks) io.out.write(`${c.ok ? 'ok  ' : 'no  '} ${c.name.padEnd(22)} ${c.detail}\n`);
      return 0;
    },
  },
};
