/** One thing wrong with an input file, located so an editor can jump to it. */
export interface Problem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

/**
 * Thrown for a matrix (or results file) that cannot be used. Carries every problem found,
 * each with file:line:col; the CLI prints them and exits 2.
 */
export class MatrixError extends Error {
  readonly problems: readonly Problem[];
  readonly exitCode = 2;

  constructor(problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'MatrixError';
    this.problems = problems;
  }
}
