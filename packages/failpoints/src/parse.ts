import { constants } from 'node:os';

/**
 * The fail-rs tasks plus three Node crash tasks. `callback` is never parsed: it only
 * comes from `cfgCallback()`, as in fail-rs.
 */
export type Task =
  | 'off'
  | 'return'
  | 'sleep'
  | 'panic'
  | 'print'
  | 'pause'
  | 'yield'
  | 'delay'
  | 'exit'
  | 'abort'
  | 'kill'
  | 'callback';

/** One link of a chain: `[p%][cnt*]task[(arg)]`. */
export interface Action {
  /** Probability in [0, ∞); values >= 1 mean "always" (fail-rs accepts `125%`). */
  readonly probability: number;
  /** How many times the action may trigger; undefined means unlimited. */
  readonly count: number | undefined;
  readonly task: Task;
  /** The raw text between the parentheses: `return` gives undefined, `return()` gives "". */
  readonly arg: string | undefined;
  /** Milliseconds for sleep/delay, exit code for exit, signal name for kill. */
  readonly value: number | string | undefined;
  readonly callback?: () => void;
}

/** A spec that does not follow the grammar. The registry is left unchanged when this is thrown. */
export class FailpointConfigError extends Error {
  override name = 'FailpointConfigError';
}

const DECIMAL = /^\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^\+?\d+$/;
const HINT = 'expected [p%][cnt*]task[(arg)] chained with "->", e.g. "50%3*return(1)->off"';

/**
 * Parses a whole chain. Every action is parsed before anything is returned, so callers
 * can apply the result atomically (an invalid spec never replaces a valid one).
 */
export function parseSpec(spec: string): Action[] {
  if (typeof spec !== 'string') throw new FailpointConfigError(`failpoint spec must be a string, got ${typeof spec}`);
  return spec.split('->').map((piece) => parseAction(piece, spec));
}

// Mirrors fail-rs `Action::from_str`: args come out first (so `%`/`*` may appear in them),
// then the probability at the first `%`, then the count at the first `*`.
function parseAction(raw: string, spec: string): Action {
  const text = raw.trim();
  const fail = (why: string): never => {
    throw new FailpointConfigError(`invalid failpoint action "${text}" in "${spec}": ${why}; ${HINT}`);
  };
  let rest = text;
  let arg: string | undefined;
  const open = rest.indexOf('(');
  if (open >= 0) {
    if (!rest.endsWith(')')) fail('parentheses do not match');
    arg = rest.slice(open + 1, -1);
    rest = rest.slice(0, open);
  }
  let probability = 1;
  const pct = rest.indexOf('%');
  if (pct >= 0) {
    const p = rest.slice(0, pct);
    if (!DECIMAL.test(p)) fail(`probability "${p}%" is not a non-negative number`);
    probability = Number(p) / 100;
    rest = rest.slice(pct + 1);
  }
  let count: number | undefined;
  const star = rest.indexOf('*');
  if (star >= 0) {
    const c = rest.slice(0, star);
    if (!INTEGER.test(c)) fail(`count "${c}*" is not a non-negative integer`);
    count = Number(c);
    rest = rest.slice(star + 1);
  }
  const task = rest;
  let value: number | string | undefined;
  switch (task) {
    case 'off':
    case 'pause':
    case 'yield':
    case 'abort':
      if (arg !== undefined) fail(`${task} takes no argument`);
      break;
    case 'return':
    case 'panic':
    case 'print':
      break;
    case 'sleep':
    case 'delay':
      if (arg === undefined || !INTEGER.test(arg)) fail(`${task} requires a timeout in integer milliseconds`);
      value = Number(arg);
      break;
    case 'exit':
      if (arg !== undefined && !(INTEGER.test(arg) && Number(arg) <= 255)) fail('exit code must be an integer 0-255');
      value = arg === undefined ? 1 : Number(arg);
      break;
    case 'kill':
      value = signalName(arg ?? 'SIGKILL') ?? fail(`unknown signal "${arg}" (use a name like SIGKILL or a number)`);
      break;
    default:
      fail(task === '' ? 'missing task' : `unknown task "${task}"`);
  }
  return { probability, count, task: task as Task, arg, value };
}

function signalName(arg: string): string | undefined {
  const signals = constants.signals as Record<string, number>;
  if (INTEGER.test(arg)) return Object.keys(signals).find((s) => signals[s] === Number(arg));
  const name = arg.startsWith('SIG') ? arg : `SIG${arg}`;
  return name in signals ? name : undefined;
}

/** True when firing the chain can end the process: HTTP control acknowledges such a PUT before applying it. */
export function isLethal(actions: readonly Action[]): boolean {
  return actions.some((a) => a.task === 'exit' || a.task === 'abort' || a.task === 'kill' || a.task === 'panic');
}

/**
 * Parses `name=spec;name2=spec2` (the FAILPOINTS env format, also the HTTP bulk body):
 * trimmed, empty pieces skipped (a trailing `;` is fine), split at the first `=`.
 * All entries are validated before any is returned.
 */
export function parseFailpointList(text: string, origin = 'FAILPOINTS'): Array<[string, string, Action[]]> {
  const out: Array<[string, string, Action[]]> = [];
  for (const piece of text.trim().split(';')) {
    const entry = piece.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) {
      throw new FailpointConfigError(`${origin}: invalid failpoint "${entry}": expected name=spec, e.g. "a=return(1)"`);
    }
    const name = entry.slice(0, eq).trim();
    const spec = entry.slice(eq + 1).trim();
    if (name === '' || /\s/.test(name)) {
      throw new FailpointConfigError(`${origin}: invalid failpoint name ${JSON.stringify(name)} in "${entry}"`);
    }
    try {
      out.push([name, spec, parseSpec(spec)]);
    } catch (e) {
      throw new FailpointConfigError(`${origin}: unable to configure failpoint "${name}": ${(e as Error).message}`);
    }
  }
  return out;
}
