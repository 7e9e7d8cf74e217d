// The durability model behind power-loss faults, shared by the in-process tracker (l1) and the
// crash harness's journal replay (l2). It follows the conservative reading of POSIX that LazyFS
// (Jepsen) and ALICE / CrashMonkey use: the page cache is lost on power loss, so
// - a file's data is what it held at its last fsync/fdatasync (a file never synced since it was
//   created is empty; a file that existed when tracking began keeps that content until synced);
// - a name (create, mkdir, rename, link, unlink, rmdir) is durable only once its parent
//   directory was fsynced afterwards; until then the directory still lists what it listed at
//   its last fsync. A rename is two names: each side needs its own directory's fsync.
// Nodes are identified by inode number, so an fsync through a descriptor reaches the file
// wherever it was renamed to since it was opened.
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** One tracked operation, as the l1 tracker sees it and as an l2 journal line stores it. */
export type PowerLossOp =
  /** A new file appeared at `path` (open with O_CREAT of a missing name, writeFile, copyFile...). */
  | { op: 'create'; path: string; ino: number }
  /** Bytes written to a file (counted for evidence; the data itself is volatile until fsync). */
  | { op: 'write'; path: string; ino?: number; bytes: number }
  /** fsync/fdatasync of a file: `data` is its whole content at that moment. */
  | { op: 'fsync'; path: string; ino?: number; data: Buffer }
  /** fsync of a directory: its current entries become durable. */
  | { op: 'dirsync'; path: string }
  | { op: 'rename'; from: string; to: string }
  | { op: 'link'; from: string; to: string }
  | { op: 'unlink'; path: string }
  | { op: 'mkdir'; path: string; ino: number }
  /** rmdir, or rm of a whole subtree. */
  | { op: 'rmdir'; path: string };

/** What a power loss discarded. */
export interface PowerLossReport {
  root: string;
  /** Files whose content went back to their last fsync (or to empty): path, bytes lost. */
  rolledBack: Array<{ path: string; bytesLost: number }>;
  /** Names that were not durable and disappeared (new files and dirs, rename targets). */
  removed: string[];
  /** Names that came back (an unlink, rmdir or rename source that was not durable). */
  restored: string[];
  /** Renames whose target name was not durable: `from -> to`. */
  renamesUndone: string[];
  /** Sum of bytes lost over rolled-back and removed files. */
  bytesLost: number;
  /** Operations seen since tracking started or since the previous power loss. */
  ops: number;
}

interface Node {
  kind: 'file' | 'dir';
  ino: number;
  /** Content as of the last fsync (files); null = never synced since created (empty on loss). */
  durable: Buffer | null;
}

/**
 * The volatile and the durable namespace of one directory tree, fed with operations, and able to
 * rewrite the real tree to its durable state. Paths outside `root` are ignored (a rename out of
 * the root is an unlink; into it, a create whose data is not durable).
 */
export class PowerLossModel {
  readonly root: string;
  /** The root as the caller named it, when that differs from its real path (a symlinked /tmp). */
  readonly #alias: string;
  #cur = new Map<string, Node>();
  #dur = new Map<string, Node>();
  #live = new Map<number, Node>();
  #renames: Array<{ from: string; to: string; node: Node }> = [];
  /** Per directory, the names that changed since its last fsync (what a dirsync makes durable). */
  #pending = new Map<string, Set<string>>();
  #ops = 0;

  constructor(root: string) {
    // realpath: /tmp may be a symlink and the code under test may name the tree either way.
    this.#alias = resolve(root);
    this.root = realpathSync(this.#alias);
    this.resync();
  }

  /** Operations applied since the last snapshot. */
  get ops(): number {
    return this.#ops;
  }

  /** `path` (absolute) with the root's alias replaced by its real path: how the model names it. */
  normalize(path: string): string {
    if (this.#alias === this.root) return path;
    if (path === this.#alias || path.startsWith(this.#alias + sep)) return this.root + path.slice(this.#alias.length);
    return path;
  }

  /** The current path of a live inode, if the model tracks it. */
  pathOf(ino: number): string | undefined {
    const node = this.#live.get(ino);
    if (node === undefined) return undefined;
    for (const [path, n] of this.#cur) if (n === node) return path;
    return undefined;
  }

  /** Whether `path` is the root or inside it. */
  covers(path: string): boolean {
    return path === this.root || path.startsWith(this.root + sep);
  }

  /**
   * Whether `path` names, in the model, the file with inode `ino`. By path AND inode: inode numbers
   * are reused as soon as a file is gone, so a new file may carry the number of a dead one.
   */
  knows(path: string, ino: number): boolean {
    return this.#cur.get(path)?.ino === ino;
  }

  /** Whether `path` is a directory the model tracks (the root included). */
  isDir(path: string): boolean {
    return path === this.root || this.#cur.get(path)?.kind === 'dir';
  }

  /** Takes the tree as it is on disk as durable (tracking start, and after each power loss). */
  resync(): void {
    this.#cur.clear();
    this.#live.clear();
    this.#renames = [];
    this.#ops = 0;
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        const st = lstatSync(path);
        if (entry.isDirectory()) {
          this.#put(path, { kind: 'dir', ino: st.ino, durable: null });
          walk(path);
        } else if (entry.isFile()) {
          this.#put(path, { kind: 'file', ino: st.ino, durable: readFileSync(path) });
        }
      }
    };
    walk(this.root);
    this.#dur = new Map(this.#cur);
    this.#pending.clear(); // the snapshot is durable as a whole: nothing pending
  }

  #put(path: string, node: Node): void {
    this.#set(path, node);
    this.#live.set(node.ino, node);
  }

  /** Changes the volatile name `path` (node, or undefined to remove it) and notes it for its directory. */
  #set(path: string, node: Node | undefined): void {
    if (node === undefined) this.#cur.delete(path);
    else this.#cur.set(path, node);
    const dir = dirname(path);
    let changed = this.#pending.get(dir);
    if (changed === undefined) {
      changed = new Set();
      this.#pending.set(dir, changed);
    }
    changed.add(path);
  }

  /** Applies one operation (paths absolute; ones outside the root are ignored). */
  apply(raw: PowerLossOp): void {
    const op = this.#normalized(raw);
    this.#ops++;
    switch (op.op) {
      case 'create':
      case 'mkdir':
        if (!this.covers(op.path) || op.path === this.root) return;
        // an open with O_CREAT of a file that was already there: the same file, not a new one
        if (this.knows(op.path, op.ino)) return;
        this.#put(op.path, { kind: op.op === 'mkdir' ? 'dir' : 'file', ino: op.ino, durable: null });
        return;
      case 'write':
        return;
      case 'fsync': {
        const node = (op.ino === undefined ? undefined : this.#live.get(op.ino)) ?? this.#cur.get(op.path);
        // the caller hands over a fresh copy (read at the fsync): kept as is, no second copy
        if (node !== undefined && node.kind === 'file') node.durable = op.data;
        return;
      }
      case 'dirsync':
        this.#dirsync(op.path);
        return;
      case 'rename':
        this.#move(op.from, op.to, false);
        return;
      case 'link':
        this.#move(op.from, op.to, true);
        return;
      case 'unlink':
      case 'rmdir':
        this.#drop(op.path);
        return;
    }
  }

  #normalized(op: PowerLossOp): PowerLossOp {
    if (op.op === 'rename' || op.op === 'link')
      return { ...op, from: this.normalize(op.from), to: this.normalize(op.to) };
    return { ...op, path: this.normalize(op.path) };
  }

  #dirsync(dir: string): void {
    if (!this.isDir(dir)) return;
    const changed = this.#pending.get(dir);
    if (changed === undefined) return;
    this.#pending.delete(dir);
    for (const path of changed) {
      const node = this.#cur.get(path);
      if (node === undefined) this.#dur.delete(path);
      else this.#dur.set(path, node);
    }
  }

  #move(from: string, to: string, keep: boolean): void {
    const inFrom = this.covers(from);
    const inTo = this.covers(to);
    const top = this.#cur.get(from);
    // only a directory drags a subtree along: a file's rename touches one entry
    const moved =
      top === undefined
        ? []
        : top.kind === 'file'
          ? [[from, top] as const]
          : [...this.#cur].filter(([p]) => p === from || p.startsWith(from + sep));
    if (!inTo) {
      if (inFrom && !keep) this.#drop(from);
      return;
    }
    if (!inFrom || moved.length === 0) {
      // Came from outside the tracked tree: a new name whose data was never synced here.
      if (!this.#cur.has(to)) {
        const st = statSync(to, { throwIfNoEntry: false });
        if (st) this.#put(to, { kind: st.isDirectory() ? 'dir' : 'file', ino: st.ino, durable: null });
      }
      return;
    }
    this.#drop(to);
    if (!keep) for (const [p] of moved) this.#set(p, undefined);
    for (const [p, node] of moved) this.#set(to + p.slice(from.length), node);
    if (!keep) this.#renames.push({ from, to, node: moved[0]![1] });
  }

  #drop(path: string): void {
    const node = this.#cur.get(path);
    if (node === undefined) return;
    if (node.kind === 'file') {
      this.#set(path, undefined);
      return;
    }
    for (const p of [...this.#cur.keys()]) if (p === path || p.startsWith(path + sep)) this.#set(p, undefined);
  }

  /** The durable tree: durable names whose every ancestor is a durable directory. */
  #durableTree(): Map<string, Node> {
    const tree = new Map<string, Node>();
    const byDepth = [...this.#dur].sort(([a], [b]) => a.split(sep).length - b.split(sep).length);
    for (const [path, node] of byDepth) {
      const parent = dirname(path);
      if (parent === this.root || tree.get(parent)?.kind === 'dir') tree.set(path, node);
    }
    return tree;
  }

  /**
   * Rewrites the real tree to its durable state and returns what was lost; the model then
   * starts over from that state. Call it only once the code under test stopped writing.
   */
  powerLoss(): PowerLossReport {
    const tree = this.#durableTree();
    const report: PowerLossReport = {
      root: this.root,
      rolledBack: [],
      removed: [],
      restored: [],
      renamesUndone: [],
      bytesLost: 0,
      ops: this.#ops,
    };
    const rel = (p: string) => relative(this.root, p) || '.';
    // 1. Remove every name that is not durable (or changed kind), top-down.
    const sweep = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        const want = tree.get(path);
        const isDir = entry.isDirectory();
        if (want === undefined || (want.kind === 'dir') !== isDir) {
          report.bytesLost += isDir ? treeBytes(path) : lstatSync(path).size;
          rmSync(path, { recursive: true, force: true });
          report.removed.push(rel(path));
        } else if (isDir) sweep(path);
      }
    };
    sweep(this.root);
    // 2. Bring back every durable name with its durable content, parents first.
    for (const [path, node] of tree) {
      if (node.kind === 'dir') {
        if (!statSync(path, { throwIfNoEntry: false })) {
          mkdirSync(path);
          report.restored.push(rel(path));
        }
        continue;
      }
      const want = node.durable ?? Buffer.alloc(0);
      let have: Buffer | null = null;
      try {
        have = readFileSync(path);
      } catch {
        report.restored.push(rel(path));
      }
      if (have?.equals(want)) continue;
      writeFileSync(path, want);
      if (have !== null) {
        const lost = bytesLost(have, want);
        report.rolledBack.push({ path: rel(path), bytesLost: lost });
        report.bytesLost += lost;
      }
    }
    for (const r of this.#renames) {
      if (tree.get(r.to) !== r.node) report.renamesUndone.push(`${rel(r.from)} -> ${rel(r.to)}`);
    }
    this.resync();
    return report;
  }
}

/** Bytes of `have` past the common prefix with `want`: what the loss took away or replaced. */
function bytesLost(have: Buffer, want: Buffer): number {
  const n = Math.min(have.length, want.length);
  let i = 0;
  while (i < n && have[i] === want[i]) i++;
  return Math.max(have.length, want.length) - i;
}

function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? treeBytes(path) : lstatSync(path).size;
  }
  return total;
}

/** Whether a report says the power loss discarded anything. */
export function powerLossActed(report: PowerLossReport): boolean {
  return report.bytesLost > 0 || report.removed.length + report.restored.length + report.rolledBack.length > 0;
}

/** One line for messages and evidence: what a power loss discarded under its root. */
export function describePowerLoss(report: PowerLossReport): string {
  if (!powerLossActed(report)) {
    return `power loss under ${report.root} lost nothing: every write, create, rename and unlink of ${report.ops} op(s) was durable`;
  }
  const parts = [
    `${report.rolledBack.length} file(s) rolled back to their last fsync`,
    `${report.removed.length} name(s) not durable removed`,
    `${report.restored.length} name(s) restored`,
    `${report.renamesUndone.length} rename(s) undone`,
  ];
  return `power loss under ${report.root}: ${parts.join(', ')}, ${report.bytesLost} byte(s) lost`;
}
