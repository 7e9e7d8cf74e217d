import { parseArgs } from 'node:util';

/** A command-line mistake: printed with usage, exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** A project on disk that a command cannot work with (no package.json, a file in the way): one line, exit 2. */
export class ConfigError extends Error {
  readonly exitCode = 2;
}

export type Flags = Record<string, string | boolean | undefined>;

export interface CommandSpec {
  summary: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string; help: string }>;
  /** Names of the positional arguments, in order (`diff BASE HEAD`): each lands in the flags under its name. */
  positionals?: string[];
}

export function parseFlags(spec: CommandSpec, argv: string[]): Flags {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(spec.options).map(([k, o]) => [k, { type: o.type, ...(o.short ? { short: o.short } : {}) }]),
      ),
      allowPositionals: true,
      strict: true,
    });
    const names = spec.positionals ?? [];
    if (positionals.length > names.length) throw new UsageError(`unexpected argument "${positionals[names.length]}"`);
    const flags = { ...values } as Flags;
    positionals.forEach((value, i) => {
      flags[names[i] ?? ''] = value;
    });
    return flags;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
}

export function list(value: string | boolean | undefined): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function integer(name: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value))
    throw new UsageError(`--${name} takes a whole number, got "${value}"`);
  return Number(value);
}

export function shard(value: string | boolean | undefined): { index: number; count: number } | undefined {
  if (value === undefined) return undefined;
  const m = typeof value === 'string' ? /^(\d+)\/(\d+)$/.exec(value) : null;
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard takes i/n with 1 <= i <= n, e.g. 2/4; got "${String(value)}"`);
  }
  return { index, count };
}
