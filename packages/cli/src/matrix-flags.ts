// What most commands do first with their flags: load the matrix, check the layers and the issue they
// name, find the results directory. The matrix package only, so a command that needs no more loads no more.
import { join, resolve } from 'node:path';
import type { LoadedMatrix } from '@faultline/matrix';
import { loadMatrix } from '@faultline/matrix';
import { type Flags, UsageError } from './args.ts';

export function load(flags: Flags): LoadedMatrix {
  return loadMatrix(resolve(typeof flags.matrix === 'string' ? flags.matrix : 'matrix.yaml'));
}

export function checkLayers(loaded: LoadedMatrix, layers: string[] | undefined): string[] | undefined {
  const known = Object.keys(loaded.matrix.layers);
  for (const l of layers ?? []) {
    if (!known.includes(l))
      throw new UsageError(`unknown layer "${l}" (layers of ${loaded.file}: ${known.join(', ')})`);
  }
  return layers;
}

export function checkIssue(loaded: LoadedMatrix, issue: string | boolean | undefined): string | undefined {
  if (typeof issue !== 'string') return undefined;
  if (!loaded.matrix.issues.some((i) => i.id === issue)) {
    throw new UsageError(`unknown issue "${issue}" (see \`faultline list\`)`);
  }
  return issue;
}

export function resultsDir(loaded: LoadedMatrix, flags: Flags): string {
  return typeof flags.results === 'string'
    ? resolve(flags.results)
    : join(resolve(loaded.file, '..'), '.faultline', 'results');
}
