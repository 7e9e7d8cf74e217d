import { existsSync, globSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { computeCoverage, gate, plural, requiredLayers, VERIFY_FILE } from '@faultline/matrix';
import {
  DiffInputError,
  diffMarkdown,
  diffReports,
  isLayerResultsName,
  type MatrixReport,
  matrixReport,
  mergeResults,
  parseMatrixReport,
  readResultsDir,
  readResultsFile,
  resultsFiles,
  writeResults,
} from '@faultline/runner';
import { ConfigError, type Flags, list, UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { checkIssue, checkLayers, load, resultsDir } from './matrix-flags.ts';
import { mergeVerifyFiles } from './verify.ts';

/** `faultline list`: issues with their required layers and the state of each cell. */
export function listCommand(io: Io, flags: Flags): number {
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
}

/** `faultline merge`: shards and jobs into one results file per layer, and their verify.json into one. */
export function mergeCommand(io: Io, flags: Flags): number {
  const loaded = load(flags);
  const out = resultsDir(loaded, flags);
  const dirs = list(flags.from)?.map((d) => resolve(d)) ?? [out];
  const found = (keep: (name: string) => boolean) =>
    dirs.flatMap((dir) =>
      existsSync(dir)
        ? globSync('**/*.json', { cwd: dir })
            .filter((f) => keep(basename(f)))
            .sort()
            .map((f) => join(dir, f))
        : [],
    );
  const files = found(isLayerResultsName);
  const verifyFiles = found((name) => name === VERIFY_FILE);
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

export function diffCommand(io: Io, flags: Flags): number {
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
