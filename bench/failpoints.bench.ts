// Failpoint overhead (issue 3): an unconfigured failpoint() against a plain no-op call
// (budget <= 1.5x), and a configured `off` point (budget <= 50 ns per call).
import { cfg, failpoint, remove } from '../packages/failpoints/src/index.ts';
import { type BenchFigure, figure, median } from './figure.ts';

const CALLS = 10_000_000;
const RUNS = 7;

// The baseline: what a call site would cost if the failpoint were a plain function doing nothing.
function noop(name: string): undefined {
  if (name.length === 0) throw new Error('unreachable: keeps the argument alive');
  return undefined;
}

// One loop per measurement (not one generic loop taking a callback), so each call site keeps
// its own type feedback, as in real code. The counter is checked so calls cannot be eliminated.
function loopNoop(n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) if (noop('bench') === undefined) acc++;
  return acc;
}

function loopUnconfigured(n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) if (failpoint('bench') === undefined) acc++;
  return acc;
}

function loopOff(n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) if (failpoint('bench') === undefined) acc++;
  return acc;
}

function loopAfterRemove(n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) if (failpoint('bench') === undefined) acc++;
  return acc;
}

function nsPerCall(loop: (n: number) => number): number {
  const t0 = process.hrtime.bigint();
  const acc = loop(CALLS);
  const ns = Number(process.hrtime.bigint() - t0);
  if (acc !== CALLS) throw new Error(`bench: expected ${CALLS} no-op results, got ${acc}`);
  return ns / CALLS;
}

/** Median ns/call of baseline and subject, run alternately so machine noise hits both alike. */
function pair(baseline: (n: number) => number, subject: (n: number) => number): [number, number] {
  baseline(CALLS / 10); // warm up: let the optimizing compiler settle first
  subject(CALLS / 10);
  const b: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    b.push(nsPerCall(baseline));
    s.push(nsPerCall(subject));
  }
  return [median(b), median(s)];
}

export default async function bench(): Promise<BenchFigure[]> {
  // Order matters: the first pair is the production case (no failpoint ever configured in
  // the process); the last shows what remains once points have fired and been removed.
  const [plain, unconfigured] = pair(loopNoop, loopUnconfigured);
  cfg('bench', 'off');
  const [plainOff, off] = pair(loopNoop, loopOff);
  remove('bench');
  const [plainAfter, after] = pair(loopNoop, loopAfterRemove);
  return [
    figure(
      'failpoint() unconfigured vs plain call',
      'ns/call',
      { label: 'plain no-op call', value: plain },
      { label: 'failpoint() unconfigured', value: unconfigured },
      { budget: '<= 1.5x', ok: unconfigured / plain <= 1.5 },
    ),
    figure(
      'failpoint() configured off',
      'ns/call',
      { label: 'plain no-op call', value: plainOff },
      { label: "failpoint() with cfg 'off'", value: off },
      { budget: '<= 50 ns', ok: off <= 50, note: `${off.toFixed(1)} ns per call` },
    ),
    figure(
      'failpoint() unconfigured after cfg+remove',
      'ns/call',
      { label: 'plain no-op call', value: plainAfter },
      { label: 'failpoint() after remove', value: after },
      { note: 'informational: call sites re-optimized after points fired' },
    ),
  ];
}
