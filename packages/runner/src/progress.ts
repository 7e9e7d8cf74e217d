import {
  errorExcerpt,
  type FileError,
  type LayerResults,
  plural,
  type TestRecord,
  testOutcome,
} from '@faultline/matrix';
import type { LayerPlan } from './plan.ts';
import type { WorkerMessage } from './worker-protocol.ts';

/** Receives run progress; the CLI shows it live in a terminal and as plain lines elsewhere. */
export interface ProgressSink {
  layerStart(plan: LayerPlan): void;
  event(layer: string, project: string, message: WorkerMessage): void;
  layerEnd(plan: LayerPlan, results: LayerResults): void;
}

export const silentProgress: ProgressSink = {
  layerStart() {},
  event() {},
  layerEnd() {},
};

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

function summary(c: Counts): string {
  return `${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''}`;
}

// Control characters (escape sequences included) never reach the terminal from test text.
const term = (s: string) => s.replace(/[\u0000-\u0009\u000b-\u001f\u007f\u009b]/g, '?');

const FILE_ERROR_LABEL: Record<FileError['kind'], string> = {
  load: 'did not load',
  timeout: 'was killed at the layer timeout',
  crash: 'crashed',
  interrupted: 'was stopped by an interrupt',
  unhandled: 'threw an unhandled error',
};

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `      ${term(l)}`)
    .join('\n');

function replay(layer: string, seed: number, issue?: string): string {
  return `      replay: faultline run --layer ${layer}${issue ? ` --issue ${issue}` : ''} --seed ${seed}`;
}

function failedTestLines(results: LayerResults, t: TestRecord): string[] {
  const issues = t.tags.length ? `[${t.tags.join(', ')}] ` : '';
  const excerpt = errorExcerpt(t.errors, 12, 1500);
  return [
    `  ✗ ${term(`${issues}${t.file}:${t.line} ${t.fullName}`)}`,
    ...(excerpt ? [indent(excerpt)] : []),
    replay(results.layer, results.run.seed, t.tags[0]),
  ];
}

function fileErrorLines(results: LayerResults, e: FileError): string[] {
  const where = e.line ? `${e.file}:${e.line}` : e.file;
  return [
    `  ✗ ${term(where)} ${FILE_ERROR_LABEL[e.kind]}`,
    indent(errorExcerpt([{ message: e.message }], 12, 1500) ?? ''),
    replay(results.layer, results.run.seed),
  ];
}

/** After a layer: every failed test and file error, with its place, first error lines and replay command. */
export function failureReport(results: LayerResults): string[] {
  const failed = results.tests.filter((t) => t.state === 'failed');
  if (!failed.length && !results.errors.length) return [];
  const counts = [
    failed.length ? plural(failed.length, 'failed test') : '',
    results.errors.length ? plural(results.errors.length, 'file error') : '',
  ].filter(Boolean);
  return [
    `${results.layer}: ${counts.join(', ')}:`,
    ...failed.flatMap((t) => failedTestLines(results, t)),
    ...results.errors.flatMap((e) => fileErrorLines(results, e)),
  ];
}

/** Test files of a layer: how many will run (announced by each project's worker) and how many finished. */
interface FileCount {
  total: number;
  done: number;
}

function fileCount(count: FileCount): string {
  return count.total ? `${count.done}/${count.total} files` : `${count.done} files`;
}

/**
 * Time left: from the last run's duration of this layer when known (the estimate a user trusts most),
 * else from the share of files done; nothing before the first file finishes.
 */
export function estimateLeft(elapsedMs: number, count: FileCount, expectedMs?: number): string {
  if (expectedMs !== undefined && expectedMs > 0) {
    const left = expectedMs - elapsedMs;
    return left > 0
      ? `~${seconds(left)} left (last run ${seconds(expectedMs)})`
      : `over last run's ${seconds(expectedMs)}`;
  }
  if (!count.total || !count.done) return '';
  return `~${seconds((elapsedMs / count.done) * (count.total - count.done))} left`;
}

export interface TtyProgressOptions {
  /** The layer's duration in the last run (its results file), for the estimate of time left. */
  expectedMs?: (layer: string) => number | undefined;
}

/**
 * Live display: one status line per layer rewritten in place (files done of total, counts, elapsed, time
 * left, what runs), failures printed above it as they happen. Used when the stream is a TTY and not in CI.
 */
export function ttyProgress(out: NodeJS.WriteStream, options: TtyProgressOptions = {}): ProgressSink {
  let counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  let files: FileCount = { total: 0, done: 0 };
  let current = '';
  let layer = '';
  let expected: number | undefined;
  let started = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    const elapsed = Date.now() - started;
    const left = estimateLeft(elapsed, files, expected);
    const line = `${layer} ▸ ${fileCount(files)}  ${summary(counts)}  ${seconds(elapsed)}${left ? ` ${left}` : ''}  ${current}`;
    out.write(`\r\x1b[K${line.slice(0, (out.columns || 120) - 1)}`);
  };
  return {
    layerStart(plan) {
      counts = { passed: 0, failed: 0, skipped: 0 };
      files = { total: 0, done: 0 };
      layer = plan.layer;
      expected = options.expectedMs?.(plan.layer);
      started = Date.now();
      current = plan.projects.map((p) => p.name).join(', ');
      timer = setInterval(draw, 250);
      timer.unref();
      draw();
    },
    event(_layer, project, message) {
      if (message.type === 'run-start') files.total += message.files;
      if (message.type === 'module-start') current = `${project}: ${message.file}`;
      if (message.type === 'module-end') files.done++;
      if (message.type === 'test') {
        counts[testOutcome(message.test.state)]++;
        if (message.test.state === 'failed') {
          out.write(`\r\x1b[K  ✗ ${term(`${message.test.file}:${message.test.line} ${message.test.fullName}`)}\n`);
        }
      }
      if (message.type === 'file-error') {
        const e = message.error;
        out.write(`\r\x1b[K  ✗ ${term(e.line ? `${e.file}:${e.line}` : e.file)} ${FILE_ERROR_LABEL[e.kind]}\n`);
      }
      draw();
    },
    layerEnd(plan, results) {
      if (timer) clearInterval(timer);
      out.write(
        `\r\x1b[K${plan.layer} ${plan.title}: ${fileCount(files)}, ${summary(counts)} in ${seconds(results.run.durationMs)}\n`,
      );
      for (const line of failureReport(results)) out.write(`${line}\n`);
    },
  };
}

/** Plain lines, one per finished test file: for CI logs and pipes. */
export function lineProgress(out: NodeJS.WritableStream): ProgressSink {
  const perFile = new Map<string, Counts>();
  const fileErrors = new Map<string, FileError>();
  let totals: Counts = { passed: 0, failed: 0, skipped: 0 };
  let files: FileCount = { total: 0, done: 0 };
  return {
    layerStart(plan) {
      totals = { passed: 0, failed: 0, skipped: 0 };
      files = { total: 0, done: 0 };
      out.write(`${plan.layer} ${plan.title}: running ${plan.projects.map((p) => p.name).join(', ')}\n`);
    },
    event(layer, project, message) {
      if (message.type === 'run-start') {
        files.total += message.files;
      } else if (message.type === 'test') {
        const key = `${project}\u0000${message.test.file}`;
        const c = perFile.get(key) ?? { passed: 0, failed: 0, skipped: 0 };
        c[testOutcome(message.test.state)]++;
        totals[testOutcome(message.test.state)]++;
        perFile.set(key, c);
        if (message.test.state === 'failed') {
          out.write(`${layer}:   FAIL ${message.test.file}:${message.test.line} ${message.test.fullName}\n`);
        }
      } else if (message.type === 'module-end') {
        const key = `${project}\u0000${message.file}`;
        const c = perFile.get(key) ?? { passed: 0, failed: 0, skipped: 0 };
        const error = fileErrors.get(key);
        const ran = c.passed + c.failed + c.skipped > 0;
        const what = error
          ? ran
            ? `${summary(c)}; ${FILE_ERROR_LABEL[error.kind]}`
            : FILE_ERROR_LABEL[error.kind]
          : summary(c);
        const failed = c.failed > 0 || error !== undefined || message.state === 'failed';
        files.done++;
        const n = files.total ? ` [${files.done}/${files.total}]` : '';
        out.write(`${layer}: ${failed ? 'FAIL' : 'ok  '}${n} ${project} ${message.file} (${what})\n`);
      } else if (message.type === 'file-error') {
        const e = message.error;
        fileErrors.set(`${project}\u0000${e.file}`, e);
        const first = errorExcerpt([{ message: e.message }], 1, 300) ?? '';
        out.write(`${layer}:   ERROR ${term(e.line ? `${e.file}:${e.line}` : e.file)}: ${e.kind}: ${term(first)}\n`);
      }
    },
    layerEnd(plan, results) {
      out.write(`${plan.layer}: ${summary(totals)} in ${seconds(results.run.durationMs)}\n`);
      for (const line of failureReport(results)) out.write(`${line}\n`);
    },
  };
}
