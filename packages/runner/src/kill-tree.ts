import { readdirSync, readFileSync } from 'node:fs';

/** pid → parent pid for every process, from /proc (Linux); empty elsewhere. */
function parentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return parents;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // Gone while we looked.
    }
  }
  return parents;
}

/**
 * SIGKILLs a process, its process group, and every descendant, including those a test moved
 * into groups of their own (detached daemons): a layer timeout must not leave orphans behind.
 * Descendants are collected before anything is killed, while the parent links still exist.
 */
export function killTree(pid: number): number[] {
  const parents = parentMap();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  }
  const signal = (target: number) => {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  signal(-pid);
  for (const p of tree) signal(p);
  return tree;
}
