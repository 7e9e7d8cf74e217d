import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
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
