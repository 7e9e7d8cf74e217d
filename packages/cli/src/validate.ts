import { planRun, plural, requiredLayers } from '@faultline/matrix';
import type { Flags } from './args.ts';
import type { Io } from './commands.ts';
import { load } from './matrix-flags.ts';

/** `faultline validate`: the matrix loads and every layer project exists. */
export function validateCommand(io: Io, flags: Flags): number {
  const loaded = load(flags);
  const plan = planRun(loaded);
  const cells = loaded.matrix.issues.reduce((n, i) => n + requiredLayers(loaded.matrix, i).size, 0);
  io.out.write(
    `${loaded.file}: ok: ${plural(loaded.matrix.issues.length, 'issue')}, ${plural(plan.layers.length, 'layer')}, ${plural(cells, 'required cell')}\n`,
  );
  return 0;
}
