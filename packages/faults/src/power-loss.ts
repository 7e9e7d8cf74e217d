// Power-loss faults for layer 1: a faulty `node:fs/promises` (createFaultyFs, same interception,
// same rules) that also tracks what the code under test made durable under a root, and on
// `powerLoss()` rewinds the real tree to that durable state (model: power-loss-model.ts).
import { readFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as realFs from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordFault, recordNoEffect } from '@faultline/evidence';
import { createFaultyFs, type FsFaultControl, type FsFaultRule, type FsObserver, type FsPromises } from './fs.ts';
import {
  describePowerLoss,
  type PowerLossModel as Model,
  PowerLossModel,
  type PowerLossOp,
  type PowerLossReport,
  powerLossActed,
} from './power-loss-model.ts';

export interface PowerLossFsOptions {
  /** The tree to track (it must exist): what is on disk under it now counts as durable. */
  root: string;
  /** Ordinary fs fault rules, applied as createFaultyFs applies them. */
  rules?: FsFaultRule | readonly FsFaultRule[];
}

export interface PowerLossFs {
  /** Hand it to the code under test, as createFaultyFs's `fs`. */
  fs: FsPromises;
  /** The fault rules' control (setRules, heal, injected...). */
  control: FsFaultControl;
  /**
   * Rewinds the tree under `root` to its durable state and records evidence of what was lost.
   * Stop the code under test first (a dead machine writes nothing); tracking then continues from
   * the rewound state, so a restart can use the same `fs`.
   */
  powerLoss(): PowerLossReport;
  /** Operations tracked since the start or the last power loss. */
  readonly ops: number;
}

const CREATING_FLAGS = /[wax+]/;
const WRITE_OPS = new Set([
  'handle.write',
  'handle.writev',
  'handle.writeFile',
  'handle.appendFile',
  'handle.truncate',
]);

/**
 * A faulty fs that tracks writes, fsyncs, creates, renames, links, unlinks and directory fsyncs
 * under `root`. `powerLoss()` keeps only what the conservative model calls durable: file data as
 * of its last fsync (a file never synced since its creation comes back empty), a name only once
 * its directory was fsynced after it appeared, moved or went away.
 */
export function createPowerLossFs(options: PowerLossFsOptions): PowerLossFs {
  const model = new PowerLossModel(options.root);
  const { fs, control } = createFaultyFs(options.rules ?? [], { observer: trackerFor(model) });
  return {
    fs,
    control,
    get ops() {
      return model.ops;
    },
    powerLoss() {
      const report = model.powerLoss();
      recordPowerLoss(report, '@faultline/faults');
      return report;
    },
  };
}

/** Evidence of one power loss: what it discarded, or a "did not act" entry when nothing was lost. */
export function recordPowerLoss(report: PowerLossReport, source: string): void {
  const attributes = {
    root: report.root,
    filesRolledBack: report.rolledBack.length,
    namesRemoved: report.removed.length,
    namesRestored: report.restored.length,
    renamesUndone: report.renamesUndone.length,
    bytesLost: report.bytesLost,
    ops: report.ops,
  };
  const entry = { kind: 'power-loss', name: 'powerLoss', detail: describePowerLoss(report), source, attributes };
  if (powerLossActed(report)) recordFault(entry);
  else recordNoEffect(entry);
}

function pathArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return resolve(arg);
  if (Buffer.isBuffer(arg)) return resolve(arg.toString());
  if (arg instanceof URL) return fileURLToPath(arg);
  return undefined;
}

function byteLength(args: readonly unknown[], result: unknown): number {
  const written = (result as { bytesWritten?: unknown } | undefined)?.bytesWritten;
  if (typeof written === 'number') return written;
  const data = args[0];
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/** The observer that turns fs calls into model operations. */
function trackerFor(model: Model): FsObserver {
  const inside = (p: string | undefined): p is string => p !== undefined && model.covers(model.normalize(p));
  const apply = (op: PowerLossOp) => model.apply(op);
  const appeared = async (path: string) => {
    const st = await realFs.stat(path).catch(() => null);
    if (st?.isFile() && !model.knows(model.normalize(path), st.ino)) apply({ op: 'create', path, ino: st.ino });
  };
  return {
    async module(op, args, result) {
      const path = pathArg(args[0]);
      switch (op) {
        case 'open': {
          if (!inside(path)) return;
          const st = await (result as FileHandle).stat();
          const flags = args[1] ?? 'r';
          const creates =
            typeof flags === 'number' ? (flags & realFs.constants.O_CREAT) !== 0 : CREATING_FLAGS.test(String(flags));
          if (st.isFile() && creates && !model.knows(model.normalize(path), st.ino))
            apply({ op: 'create', path, ino: st.ino });
          return;
        }
        case 'writeFile':
        case 'appendFile':
        case 'truncate':
          if (!inside(path)) return;
          await appeared(path);
          apply({ op: 'write', path, bytes: byteLength(args.slice(1), undefined) });
          return;
        case 'copyFile':
        case 'cp': {
          const to = pathArg(args[1]);
          if (inside(to)) await appeared(to);
          return;
        }
        case 'rename':
        case 'link': {
          const to = pathArg(args[1]);
          if (path !== undefined && to !== undefined && (inside(path) || inside(to))) apply({ op, from: path, to });
          return;
        }
        case 'unlink':
          if (inside(path)) apply({ op: 'unlink', path });
          return;
        case 'rm':
        case 'rmdir':
          if (inside(path)) apply({ op: 'rmdir', path });
          return;
        case 'mkdir':
        case 'mkdtemp': {
          const made = createdDirs(op, path, args[1], result);
          for (const p of made.filter(inside)) apply({ op: 'mkdir', path: p, ino: (await realFs.stat(p)).ino });
          return;
        }
      }
    },
    async handle(op, handle, path, args, result) {
      if (!inside(path)) return;
      if (op === 'handle.sync' || op === 'handle.datasync') {
        const st = await handle.stat();
        if (st.isDirectory()) return apply({ op: 'dirsync', path });
        apply({ op: 'fsync', path, ino: st.ino, data: contentOf(handle, model.pathOf(st.ino) ?? path) });
        return;
      }
      if (WRITE_OPS.has(op)) apply({ op: 'write', path, bytes: byteLength(args, result) });
    },
  };
}

/** The directories a mkdir or mkdtemp call created, parents first. */
function createdDirs(op: string, path: string | undefined, options: unknown, result: unknown): string[] {
  if (op === 'mkdtemp') return typeof result === 'string' ? [resolve(result)] : [];
  if (path === undefined) return [];
  const recursive = typeof options === 'object' && options !== null && (options as { recursive?: boolean }).recursive;
  if (!recursive) return [path];
  // a recursive mkdir returns the first directory it created (undefined: all existed already)
  if (typeof result !== 'string') return [];
  const first = resolve(result);
  const chain = [path];
  for (let p = path; p !== first && dirname(p) !== p; p = dirname(p)) chain.unshift(dirname(p));
  return chain;
}

/**
 * A synced file's whole content. Through /proc/self/fd (Linux): a write-only descriptor cannot be
 * read, and the file may have been renamed since it was opened; elsewhere by its current path.
 */
export function contentOf(handle: { fd: number }, path: string): Buffer {
  try {
    return readFileSync(join('/proc/self/fd', String(handle.fd)));
  } catch {
    return readFileSync(path);
  }
}
