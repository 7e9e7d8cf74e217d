// What lies on disk under a media-cache chunk store (`chunks/ab/<hash>`), read without the cache:
// chunks, temp files and strays alike, so a test can tell a torn or unindexed file from a chunk.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface ChunkFile {
  /** Path relative to the chunk store, `/`-separated (`ab/<hash>`). */
  rel: string;
  /** The file's name (a chunk's is its SHA-256). */
  name: string;
  path: string;
  size: number;
}

/** Every file under `chunksDir` at any depth, sorted by path; [] when the store does not exist. */
export function listChunkFiles(chunksDir: string): ChunkFile[] {
  const out: ChunkFile[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return; // not created yet
    }
    for (const name of names) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push({ rel: relative(chunksDir, path).split(sep).join('/'), name, path, size: statSync(path).size });
    }
  };
  walk(chunksDir);
  return out;
}
