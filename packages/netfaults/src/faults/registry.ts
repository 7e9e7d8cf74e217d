// The open faults of an environment, so that it (or a scope) can undo what a test left.
import type { NetProxy } from '../proxies.ts';
import { settleAll } from '../settle.ts';
import type { Fault, OpenFaults } from './fault.ts';

/** Undoes every fault (all run even when one fails; the first failure is thrown). */
export function undoAll(faults: Iterable<Fault>): Promise<void> {
  return settleAll([...faults].map((fault) => () => fault.undo()));
}

export class FaultRegistry implements OpenFaults {
  readonly #faults = new Set<Fault>();

  add(fault: Fault): void {
    this.#faults.add(fault);
  }

  forget(fault: Fault): void {
    this.#faults.delete(fault);
  }

  /** Undoes every open fault, or those of one kind; each forgets itself as it is undone. */
  undo(kind?: Fault['kind']): Promise<void> {
    return undoAll([...this.#faults].filter((fault) => kind === undefined || fault.kind === kind));
  }

  /** The names of the toxics open faults keep on `proxy`. */
  toxicNamesOn(proxy: NetProxy): Set<string> {
    return new Set([...this.#faults].flatMap((fault) => fault.toxicNames(proxy)));
  }
}
