import * as nodeFs from 'node:fs/promises';

/**
 * The slice of `node:fs/promises` the chunk store, local origins and uploads use. Everything
 * that touches the cache directory goes through one of these, so layer-1 tests can wrap the
 * real module and inject ENOSPC, EIO, EACCES, EMFILE or hangs.
 */
export type FsLike = Pick<
  typeof nodeFs,
  'open' | 'readFile' | 'rename' | 'unlink' | 'mkdir' | 'readdir' | 'stat' | 'rm' | 'access'
>;

export const realFs: FsLike = nodeFs;

/** fsync a directory so a rename inside it survives power loss; best effort (not all file systems allow it). */
export async function fsyncDir(fs: Pick<FsLike, 'open'>, dir: string): Promise<void> {
  let handle: nodeFs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    await handle?.close().catch(() => {});
  }
}
