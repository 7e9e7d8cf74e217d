import { type LayerResults, testOutcome } from '@faultline/matrix';
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

/**
 * Live display: one status line per layer rewritten in place (what runs, counts, elapsed),
 * failures printed above it as they happen. Used when the stream is a TTY and not in CI.
 */
export function ttyProgress(out: NodeJS.WriteStream): ProgressSink {
  let counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  let current = '';
  let layer = '';
  let started = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    const line = `${layer} ▸ ${summary(counts)}  ${seconds(Date.now() - started)}  ${current}`;
    out.write(`\r\x1b[K${line.slice(0, (out.columns || 120) - 1)}`);
  };
  return {
    layerStart(plan) {
      counts = { passed: 0, failed: 0, skipped: 0 };
      layer = plan.layer;
      started = Date.now();
      current = plan.projects.map((p) => p.name).join(', ');
      timer = setInterval(draw, 250);
      timer.unref();
      draw();
    },
    event(_layer, project, message) {
      if (message.type === 'module-start') current = `${project}: ${message.file}`;
      if (message.type === 'test') {
        counts[testOutcome(message.test.state)]++;
        if (message.test.state === 'failed') {
          out.write(`\r\x1b[K  ✗ ${message.test.file}:${message.test.line} ${message.test.fullName}\n`);
        }
      }
      if (message.type === 'file-error') out.write(`\r\x1b[K  ✗ ${message.error.file}: ${message.error.kind}\n`);
      draw();
    },
    layerEnd(plan, results) {
      if (timer) clearInterval(timer);
      out.write(`\r\x1b[K${plan.layer} ${plan.title}: ${summary(counts)} in ${seconds(results.run.durationMs)}\n`);
    },
  };
}

/** Plain lines, one per finished test file: for CI logs and pipes. */
export function lineProgress(out: NodeJS.WritableStream): ProgressSink {
  const perFile = new Map<string, Counts>();
  let totals: Counts = { passed: 0, failed: 0, skipped: 0 };
  return {
    layerStart(plan) {
      totals = { passed: 0, failed: 0, skipped: 0 };
      out.write(`${plan.layer} ${plan.title}: running ${plan.projects.map((p) => p.name).join(', ')}\n`);
    },
    event(layer, project, message) {
      if (message.type === 'test') {
        const key = `${project}\u0000${message.test.file}`;
        const c = perFile.get(key) ?? { passed: 0, failed: 0, skipped: 0 };
        c[testOutcome(message.test.state)]++;
        totals[testOutcome(message.test.state)]++;
        perFile.set(key, c);
        if (message.test.state === 'failed') {
          out.write(`${layer}:   FAIL ${message.test.file}:${message.test.line} ${message.test.fullName}\n`);
        }
      } else if (message.type === 'module-end') {
        const c = perFile.get(`${project}\u0000${message.file}`) ?? { passed: 0, failed: 0, skipped: 0 };
        out.write(`${layer}: ${c.failed ? 'FAIL' : 'ok  '} ${project} ${message.file} (${summary(c)})\n`);
      } else if (message.type === 'file-error') {
        out.write(
          `${layer}:   ERROR ${message.error.file}: ${message.error.kind}: ${message.error.message.split('\n')[0]}\n`,
        );
      }
    },
    layerEnd(plan, results) {
      out.write(`${plan.layer}: ${summary(totals)} in ${seconds(results.run.durationMs)}\n`);
    },
  };
}
