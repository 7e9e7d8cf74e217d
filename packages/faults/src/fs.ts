import type { FileHandle } from 'node:fs/promises';
import * as realFs from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordFault, recordNoEffect } from '@faultline/evidence';
import { type FailSequence, failSequence, parseSpec } from '@faultline/failpoints';
import { errnoCode, errnoError } from './errno.ts';

/** The `node:fs/promises` module's shape: what code under test receives instead of the real module. */
export type FsPromises = typeof realFs;

const HANDLE_OPS = [
  'appendFile',
  'chmod',
  'chown',
  'close',
  'datasync',
  'read',
  'readv',
  'readFile',
  'stat',
  'sync',
  'truncate',
  'utimes',
  'write',
  'writev',
  'writeFile',
] as const;

type HandleOp = `handle.${(typeof HANDLE_OPS)[number]}`;
type ModuleOp = {
  [K in keyof FsPromises]: FsPromises[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof FsPromises];

/** A `node:fs/promises` function (`'writeFile'`, `'open'`, `'rename'`...) or a FileHandle method (`'handle.sync'`). */
export type FsOp = ModuleOp | HandleOp;

/** One fault: which operations fail, how, on which paths, and when. */
export interface FsFaultRule {
  failOn: FsOp | readonly FsOp[];
  /** Errno to fail with ('ENOSPC', 'EIO', 'EACCES', or a number). Default EIO, or ENOSPC for shortWrite. */
  error?: string | number;
  /**
   * Write ops only: really write this many bytes first. `handle.write` then reports the short
   * count (a POSIX short write, no error); `writeFile`/`appendFile` (module or handle) fail
   * after the partial write, leaving a torn file as a full disk does. A write no longer than
   * this is not cut (a disk with that much room takes it whole): it goes through unchanged,
   * does not spend `times` and records only a "did not act" entry, which covers nothing.
   */
  shortWrite?: number;
  /** Matching calls that succeed before the fault starts (default 0). */
  after?: number;
  /** How many times the fault fires, then the op is healthy again (default: forever). */
  times?: number;
  /** Only these paths: a file or directory (its subtree), a RegExp or a predicate on the absolute path. */
  path?: string | RegExp | ((path: string) => boolean);
  /**
   * A fail-rs chain (the grammar of @faultline/failpoints and `FAILPOINTS`) instead of `error`, `after`
   * and `times`: each matching call takes the chain's next action, `off` passes it, `return(ERRNO)` fails
   * it (bare `return`: EIO); `N*` counts and `P%` rolls as for a failpoint. `'2*off->1*return(ENOSPC)'`
   * is `{ after: 2, times: 1, error: 'ENOSPC' }`.
   */
  spec?: string;
}

/** Runtime control of a faulty fs. */
export interface FsFaultControl {
  /** Replaces every rule (counters of the new rules start at zero). */
  setRules(rules: FsFaultRule | readonly FsFaultRule[]): void;
  /** Removes every rule: the fs is healthy from now on. */
  heal(): void;
  /** Faults injected so far (errors and short writes). */
  readonly injected: number;
  /** Calls of one op seen so far, faulted or not. */
  callsOf(op: FsOp): number;
}

const WRITE_OPS = new Set<string>(['writeFile', 'appendFile', 'handle.write', 'handle.writeFile', 'handle.appendFile']);
// watch and glob return async iterators, not promises: they pass through untouched.
const SKIPPED = new Set<string>(['watch', 'glob']);
const SYSCALL: Record<string, string> = {
  writeFile: 'write',
  appendFile: 'write',
  readFile: 'read',
  rm: 'rm',
  cp: 'copyfile',
  copyFile: 'copyfile',
  'handle.write': 'write',
  'handle.writev': 'writev',
  'handle.writeFile': 'write',
  'handle.appendFile': 'write',
  'handle.read': 'read',
  'handle.readv': 'readv',
  'handle.readFile': 'read',
  'handle.sync': 'fsync',
  'handle.datasync': 'fdatasync',
  'handle.truncate': 'ftruncate',
  'handle.stat': 'fstat',
  'handle.chmod': 'fchmod',
  'handle.chown': 'fchown',
  'handle.utimes': 'futime',
  'handle.close': 'close',
};

interface LiveRule {
  readonly ops: ReadonlySet<string>;
  /** The errno of the next failure (a `spec` rule sets it from the action it takes). */
  errno: string;
  readonly sequence: FailSequence | undefined;
  readonly shortWrite: number | undefined;
  readonly after: number;
  readonly times: number;
  readonly matches: (path: string | undefined) => boolean;
  seen: number;
  fired: number;
}

type AnyFunction = (...args: unknown[]) => unknown;

/**
 * Sees every call of a faulty fs that went through to the real module (not the injected
 * failures), after it succeeded. Power-loss tracking (power-loss.ts) is built on it, so the
 * fs interception exists once.
 */
export interface FsObserver {
  /** A `node:fs/promises` function returned `result` (for `open`, the real FileHandle). */
  module(op: string, args: readonly unknown[], result: unknown): void | Promise<void>;
  /** A method of a FileHandle opened at `path` returned `result`. */
  handle(
    op: string,
    handle: FileHandle,
    path: string | undefined,
    args: readonly unknown[],
    result: unknown,
  ): void | Promise<void>;
}

/** Options of createFaultyFs beyond its rules. */
export interface FaultyFsOptions {
  /** Called after each real call (see FsObserver). */
  observer?: FsObserver;
}

/**
 * Builds an object shaped like `node:fs/promises` that wraps the real module and injects
 * the given faults. Hand it to the code under test (dependency injection): nothing global is
 * patched, so other tests, even concurrent ones, keep the real fs. FileHandles returned by
 * `open` are wrapped too (short writes, fsync failures). Every injected fault records
 * evidence (kind 'fs-fault') on the current test.
 */
export function createFaultyFs(
  rules: FsFaultRule | readonly FsFaultRule[] = [],
  options: FaultyFsOptions = {},
): {
  fs: FsPromises;
  control: FsFaultControl;
} {
  const { observer } = options;
  let live = compile(rules);
  let injected = 0;
  const calls = new Map<string, number>();

  // A matching rule is only a candidate: a short-write rule fires (spends `times`, counts as
  // injected) only once the write is known to be longer than it, in `fire` below.
  const decide = (op: string, path: string | undefined): LiveRule | undefined => {
    calls.set(op, (calls.get(op) ?? 0) + 1);
    for (const rule of live) {
      if (!rule.ops.has(op) || !rule.matches(path)) continue;
      if (rule.sequence) {
        const action = rule.sequence.pick();
        if (action === undefined || action.task === 'off') continue;
        rule.errno = action.arg || 'EIO';
        fire(rule);
        return rule;
      }
      rule.seen++;
      if (rule.seen > rule.after && rule.fired < rule.times) {
        if (rule.shortWrite === undefined) fire(rule);
        return rule;
      }
    }
    return undefined;
  };

  const fire = (rule: LiveRule): void => {
    rule.fired++;
    injected++;
  };

  const evidence = (
    op: string,
    detail: string,
    path: string | undefined,
    rule: LiveRule,
    extra: Record<string, number> = {},
  ): void => {
    recordFault({
      kind: 'fs-fault',
      name: op,
      detail: `${op} ${detail}`,
      source: '@faultline/faults',
      attributes: { errno: rule.errno, ...extra, ...(path === undefined ? {} : { path }) },
    });
  };

  // A write the rule could not cut: say so once per rule and op (entries merge by their text), so a
  // vacuous cell names the rule and why, while covering nothing.
  const spared = (op: string, rule: LiveRule, path: string | undefined): void => {
    const n = rule.shortWrite!;
    recordNoEffect({
      kind: 'fs-fault',
      name: op,
      detail: `${op} shortWrite ${n} did not act: no write was longer than ${n} bytes, so none was cut`,
      source: '@faultline/faults',
      attributes: { errno: rule.errno, shortWrite: n, ...(path === undefined ? {} : { path }) },
    });
  };

  const failure = (op: string, rule: LiveRule, path: string | undefined): NodeJS.ErrnoException => {
    evidence(op, `failed with ${rule.errno}`, path, rule);
    return errnoError(rule.errno, SYSCALL[op] ?? op, path);
  };

  // Writes the first `shortWrite` bytes for real, then fails: a torn file. A write that fits in
  // `shortWrite` is not cut (a disk with that much room takes it whole): it passes through and
  // records nothing, so a rule no write ever exceeded leaves its test vacuous.
  const tornWrite = async (
    op: string,
    rule: LiveRule,
    path: string | undefined,
    write: (data: Buffer) => Promise<unknown>,
    whole: () => Promise<unknown>,
    data: unknown,
    encoding: unknown,
  ) => {
    const n = rule.shortWrite!;
    const bytes = toBytes(op, data, encoding);
    if (bytes.length <= n) {
      spared(op, rule, path);
      return whole();
    }
    fire(rule);
    await write(bytes.subarray(0, n));
    evidence(op, `wrote ${n} of ${bytes.length} bytes then failed with ${rule.errno}`, path, rule, {
      written: n,
      requested: bytes.length,
    });
    throw errnoError(rule.errno, SYSCALL[op] ?? op, path);
  };

  const wrapHandle = (handle: FileHandle, path: string | undefined): FileHandle => {
    const cache = new Map<string, AnyFunction>();
    return new Proxy(handle, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        if (typeof key === 'symbol' || !(HANDLE_OPS as readonly string[]).includes(key)) return value.bind(target);
        let wrapper = cache.get(key);
        if (wrapper) return wrapper;
        const real = value as AnyFunction;
        const op = `handle.${key}`;
        wrapper = async (...args: unknown[]) => {
          const rule = decide(op, path);
          if (!rule) {
            const result = await (Reflect.apply(real, target, args) as Promise<unknown>);
            await observer?.handle(op, target, path, args, result);
            return result;
          }
          if (rule.shortWrite !== undefined) {
            const whole = () => Reflect.apply(real, target, args) as Promise<unknown>;
            if (op === 'handle.write') {
              const request = writeRequest(args);
              if (request.length <= rule.shortWrite) {
                spared(op, rule, path);
                return whole();
              }
              fire(rule); // before the write: concurrent writes must not overrun `times`
              const written = await shortHandleWrite(target, rule.shortWrite, request);
              await observer?.handle(op, target, path, args, { bytesWritten: written });
              evidence(op, `short write (${written} of ${request.length} bytes)`, path, rule, {
                written,
                requested: request.length,
              });
              return { bytesWritten: written, buffer: args[0] };
            }
            const [data, options] = args;
            return tornWrite(
              op,
              rule,
              path,
              (b) => Reflect.apply(real, target, [b, options]) as Promise<unknown>,
              whole,
              data,
              encodingOf(options),
            );
          }
          // close(2) releases the descriptor even when it reports an error; so do we, or the fd would leak.
          if (op === 'handle.close') await Reflect.apply(real, target, args);
          throw failure(op, rule, path);
        };
        cache.set(key, wrapper);
        return wrapper;
      },
    });
  };

  const fs: Record<string, unknown> = { ...realFs };
  for (const [name, value] of Object.entries(realFs)) {
    if (typeof value !== 'function' || SKIPPED.has(name) || name === 'default') continue;
    const real = value as AnyFunction;
    fs[name] = async (...args: unknown[]) => {
      const path = pathOf(args[0]);
      const rule = decide(name, path);
      if (!rule) {
        const result = await Reflect.apply(real, realFs, args);
        await observer?.module(name, args, result);
        return name === 'open' ? wrapHandle(result as FileHandle, path) : result;
      }
      if (rule.shortWrite !== undefined) {
        const [target, data, options] = args;
        return tornWrite(
          name,
          rule,
          path,
          (b) => Reflect.apply(real, realFs, [target, b, options]) as Promise<unknown>,
          () => Reflect.apply(real, realFs, args) as Promise<unknown>,
          data,
          encodingOf(options),
        );
      }
      throw failure(name, rule, path);
    };
  }
  fs.default = fs;

  const control: FsFaultControl = {
    setRules(next) {
      live = compile(next);
    },
    heal() {
      live = [];
    },
    get injected() {
      return injected;
    },
    callsOf: (op) => calls.get(op) ?? 0,
  };
  return { fs: fs as unknown as FsPromises, control };
}

/** The bytes and the (offset, length, position) a `handle.write(...)` call asks to write. */
interface WriteRequest {
  bytes: Buffer;
  offset: number;
  length: number;
  position: unknown;
}

function writeRequest(args: unknown[]): WriteRequest {
  const [data] = args;
  if (typeof data === 'string') {
    const bytes = Buffer.from(data, (args[2] as BufferEncoding | undefined) ?? 'utf8');
    return { bytes, offset: 0, length: bytes.length, position: args[1] };
  }
  if (ArrayBuffer.isView(data)) {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const opts =
      typeof args[1] === 'object' && args[1] !== null ? (args[1] as Record<string, number | null>) : undefined;
    const offset = (opts ? opts.offset : (args[1] as number | undefined)) ?? 0;
    const length = (opts ? opts.length : (args[2] as number | undefined)) ?? bytes.length - offset;
    return { bytes, offset, length, position: opts ? opts.position : args[3] };
  }
  throw new TypeError('faulty fs: shortWrite on handle.write supports string and Buffer/TypedArray data');
}

/** A POSIX short write: writes the first `n` bytes of the request (n < its length) and returns the count. */
async function shortHandleWrite(handle: FileHandle, n: number, request: WriteRequest): Promise<number> {
  const { bytes, offset, position } = request;
  const result = await handle.write(bytes, offset, n, position as number | null | undefined);
  return result.bytesWritten;
}

function compile(rules: FsFaultRule | readonly FsFaultRule[]): LiveRule[] {
  const list: readonly FsFaultRule[] = Array.isArray(rules) ? rules : [rules as FsFaultRule];
  return list.map((rule, i) => {
    const where = `createFaultyFs rule ${i}`;
    const ops = new Set<string>(typeof rule.failOn === 'string' ? [rule.failOn] : rule.failOn);
    for (const op of ops) {
      const known = op.startsWith('handle.')
        ? (HANDLE_OPS as readonly string[]).includes(op.slice(7))
        : typeof (realFs as Record<string, unknown>)[op] === 'function' && !SKIPPED.has(op);
      if (!known) {
        throw new RangeError(
          `${where}: unknown op "${op}": use a node:fs/promises function (writeFile, open, rename...) or handle.${HANDLE_OPS.join('|handle.')}`,
        );
      }
      if (rule.shortWrite !== undefined && !WRITE_OPS.has(op)) {
        throw new RangeError(`${where}: shortWrite applies to ${[...WRITE_OPS].join(', ')}, not "${op}"`);
      }
    }
    if (rule.shortWrite !== undefined && !(Number.isInteger(rule.shortWrite) && rule.shortWrite >= 0)) {
      throw new RangeError(`${where}: shortWrite must be an integer >= 0, got ${rule.shortWrite}`);
    }
    return {
      ops,
      sequence: rule.spec === undefined ? undefined : specSequence(where, rule),
      errno: errnoCode(rule.error ?? (rule.shortWrite === undefined ? 'EIO' : 'ENOSPC')),
      shortWrite: rule.shortWrite,
      after: rule.after ?? 0,
      times: rule.times ?? Number.POSITIVE_INFINITY,
      matches: matcher(rule.path),
      seen: 0,
      fired: 0,
    };
  });
}

/** A rule's `spec`, checked: alone (not with error/after/times/shortWrite), only `off` and `return(ERRNO)`. */
function specSequence(where: string, rule: FsFaultRule): FailSequence {
  const mixed = (['error', 'after', 'times', 'shortWrite'] as const).filter((k) => rule[k] !== undefined);
  if (mixed.length) throw new RangeError(`${where}: spec replaces ${mixed.join(', ')}; give one or the other`);
  const sequence = failSequence(
    `fs:${[...(typeof rule.failOn === 'string' ? [rule.failOn] : rule.failOn)].join(',')}`,
    rule.spec!,
  );
  for (const action of parseSpec(rule.spec!)) {
    if (action.task !== 'off' && action.task !== 'return') {
      throw new RangeError(
        `${where}: spec "${rule.spec}": "${action.task}" has no meaning for an fs call; use off and return(ERRNO)`,
      );
    }
    if (action.arg) errnoCode(action.arg);
  }
  return sequence;
}

function matcher(path: FsFaultRule['path']): (p: string | undefined) => boolean {
  if (path === undefined) return () => true;
  if (typeof path === 'function') return (p) => p !== undefined && path(p);
  if (path instanceof RegExp) return (p) => p !== undefined && path.test(p);
  const base = resolve(path);
  return (p) => p !== undefined && (p === base || p.startsWith(base.endsWith(sep) ? base : base + sep));
}

function pathOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return resolve(arg);
  if (Buffer.isBuffer(arg)) return resolve(arg.toString());
  if (arg instanceof URL) return fileURLToPath(arg);
  return undefined;
}

function encodingOf(options: unknown): BufferEncoding {
  if (typeof options === 'string') return options as BufferEncoding;
  const enc = (options as { encoding?: BufferEncoding } | undefined)?.encoding;
  return enc ?? 'utf8';
}

function toBytes(op: string, data: unknown, encoding: unknown): Buffer {
  if (typeof data === 'string') return Buffer.from(data, encoding as BufferEncoding);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`faulty fs: shortWrite on ${op} supports string and Buffer/TypedArray data`);
}
