/**
 * One benchmark figure: a subject measured against its baseline in the same run,
 * reported as a ratio (machines differ; ratios travel).
 */
export interface BenchFigure {
  /** What is compared, e.g. "failpoint() unconfigured vs plain call". */
  name: string;
  unit: string;
  baseline: { label: string; value: number };
  subject: { label: string; value: number };
  /** subject / baseline. */
  ratio: number;
  /** The budget the issue sets, e.g. "<= 1.5x" or "< 50 ns"; and whether it was met. */
  budget?: string;
  ok?: boolean;
  note?: string;
}

/** A bench script's default export. `bench/run.ts` runs every script and prints the figures side by side. */
export type BenchScript = () => Promise<BenchFigure[]>;

export function figure(
  name: string,
  unit: string,
  baseline: BenchFigure['baseline'],
  subject: BenchFigure['subject'],
  extra: Pick<BenchFigure, 'budget' | 'ok' | 'note'> = {},
): BenchFigure {
  return { name, unit, baseline, subject, ratio: subject.value / baseline.value, ...extra };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
