import {
  closeSync,
  copyFileSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { broken } from './breaks.ts';
import { writeFailure } from './run-error.ts';

function writeAndSync(file: string, content: string | Uint8Array): void {
  const fd = openSync(file, 'w');
  try {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    // A full disk may only say so when the data is flushed: before the rename, not after it.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a file so readers only ever see the old or the complete new content: write a temp file
 * beside it, fsync, then rename over. A full, read-only or forbidden disk is a `RunError`
 * (`cannot-write`, naming the file and the error code), the old file stays as it was and the temp
 * file is removed; a crash leaves at most a stray temp file, never a torn report.
 */
export function writeFileAtomic(file: string, content: string | Uint8Array): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeAndSync(temp, content);
    renameSync(temp, file);
  } catch (error) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // Nothing was written where nothing can be removed (a read-only file system).
    }
    throw broken('rawWriteErrors') ? error : writeFailure(file, error);
  }
}

/** One file of a set, `path` relative to the directory the set is published in. */
export interface SetFile {
  path: string;
  content: string | Uint8Array;
}

/** Keeps the file at `target` (if it is one) as `backup` without ever taking it away from `target`. */
function backUp(target: string, backup: string): boolean {
  if (!lstatSync(target, { throwIfNoEntry: false })?.isFile()) return false;
  try {
    linkSync(target, backup); // a second name for the same bytes: no data written, no space needed
  } catch {
    copyFileSync(target, backup); // a file system without hard links
  }
  return true;
}

/** Puts back what `done` replaced, newest first; false when one could not be put back. */
function rollBack(done: ReadonlyArray<{ target: string; backup: string | undefined }>): boolean {
  let whole = true;
  for (const { target, backup } of [...done].reverse()) {
    try {
      if (backup) renameSync(backup, target);
      else rmSync(target, { force: true });
    } catch {
      whole = false;
    }
  }
  return whole;
}

/** Makes the renames into `dirs` durable; best effort, the files themselves were fsynced before. */
function syncDirs(dirs: Iterable<string>): void {
  for (const dir of dirs) {
    try {
      const fd = openSync(dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      // Some file systems refuse fsync on a directory (EINVAL); the renames are done either way.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The temp names a killed writer left beside these targets (`<name>.<pid>[.new|.old].tmp` of a pid
 * that is gone) are removed before the next set is published, so a crash inside a publish leaves its
 * leftovers until the next run, not forever. A live pid's names are another run's: left alone.
 */
function removeStaleTemps(targets: readonly string[]): void {
  const byDir = new Map<string, Set<string>>();
  for (const t of targets) byDir.set(dirname(t), (byDir.get(dirname(t)) ?? new Set()).add(basename(t)));
  for (const [dir, names] of byDir) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue; // not there yet: nothing left behind
    }
    for (const entry of entries) {
      const m = /^(.+)\.(\d+)(?:\.new|\.old)?\.tmp$/.exec(entry);
      if (!m || !names.has(m[1]!) || alive(Number(m[2]))) continue;
      rmSync(join(dir, entry), { force: true });
    }
  }
}

/**
 * Publishes a set of files under `dir` together (the reports of one run): when the disk fills, a
 * permission is missing or a rename fails, a reader never finds new files of this set beside old ones
 * of the previous set. Either every file is replaced, or none is, and no temp file is left.
 *
 * 1. Stage: every file is written and fsynced as `<target>.<pid>.new.tmp` beside its target — in the
 *    target's own directory, so the rename below never crosses a file system, even when a subdirectory
 *    (`junit/`) is a mount of its own. A full disk fails here, before any published file is touched.
 * 2. Back up: each file about to be replaced is hard-linked as `<target>.<pid>.old.tmp` (a second name
 *    for the same bytes: it needs no space, and the published name never goes missing).
 * 3. Publish: each staged file is renamed over its target. If a rename fails midway, those already
 *    renamed are renamed back from their backups (and files that did not exist before are removed).
 * 4. Every temp name is removed, on success and on failure.
 *
 * Why this is as atomic as POSIX allows: POSIX makes one rename atomic, never a set of them; the only
 * one-rename swap of a set (a symlinked directory) would turn the user's reports dir into a symlink and
 * drop their own files beside ours. Here every file is always whole (old or new), every byte is written
 * and fsynced before the first rename, and the rename window writes no data: a rename over an existing
 * name in one file system needs no blocks, so ENOSPC cannot strike there, and any other failure is
 * rolled back. What remains: a reader inside the window of N renames (microseconds) may see part of
 * each set, and a process killed inside it leaves that mix and its `.tmp` names, as a crash in
 * writeFileAtomic leaves its temp file. Should a rollback rename itself fail, that backup is kept: the
 * previous file is there under its `.old.tmp` name.
 *
 * A storage failure is a `cannot-write` RunError naming the published path it was about. Returns the
 * published paths.
 */
export function writeFilesAtomic(dir: string, files: readonly SetFile[]): string[] {
  const stage = files.map((f) => {
    const target = join(dir, f.path);
    const temp = `${target}.${process.pid}`;
    return { target, content: f.content, staged: `${temp}.new.tmp`, backup: `${temp}.old.tmp` };
  });
  const done: Array<{ target: string; backup: string | undefined }> = [];
  const kept = new Set<string>();
  let at = dir;
  try {
    removeStaleTemps(stage.map((s) => s.target));
    for (const s of stage) {
      at = s.target;
      mkdirSync(dirname(s.target), { recursive: true });
      writeAndSync(s.staged, s.content);
    }
    const backups = stage.map((s) => {
      at = s.target;
      return backUp(s.target, s.backup) ? s.backup : undefined;
    });
    try {
      stage.forEach((s, i) => {
        at = s.target;
        renameSync(s.staged, s.target);
        done.push({ target: s.target, backup: backups[i] });
      });
    } catch (error) {
      if (!rollBack(done)) for (const d of done) if (d.backup) kept.add(d.backup);
      throw error;
    }
    syncDirs(new Set(stage.map((s) => dirname(s.target))));
    return stage.map((s) => s.target);
  } catch (error) {
    throw broken('rawWriteErrors') ? error : writeFailure(at, error);
  } finally {
    for (const s of stage) {
      for (const temp of [s.staged, s.backup]) {
        try {
          if (!kept.has(temp)) rmSync(temp, { force: true });
        } catch {
          // Nothing was written where nothing can be removed (a read-only file system).
        }
      }
    }
  }
}
