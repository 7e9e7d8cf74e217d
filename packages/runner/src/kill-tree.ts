// The process table alone: the harness behind crash's entry point costs the CLI ~0.2 s of start-up.
import { isProcessAlive, listProcesses, type ProcStat } from '@faultline/crash/processes';

/** The process table (crash's reader of /proc, with start times); empty where there is no /proc. */
function table(): ProcStat[] {
  try {
    return listProcesses();
  } catch {
    return [];
  }
}

const sigkill = (target: number) => {
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // Already gone.
  }
};

/**
 * SIGKILLs a process, its process group, and every descendant, including those a test moved
 * into groups of their own (detached daemons): a layer timeout must not leave orphans behind.
 * Descendants are collected before anything is killed, while the parent links still exist. A pid
 * reused since is not ours: a "child" that started before its parent, or a group whose leader is no
 * longer the process we started, is left alone (crash's start-time guard).
 */
export function killTree(pid: number): number[] {
  const processes = table();
  const root = processes.find((p) => p.pid === pid);
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const p of processes) {
      if (p.ppid === tree[i] && (root === undefined || p.startTime >= root.startTime)) tree.push(p.pid);
    }
  }
  if (root === undefined || isProcessAlive(pid, root.startTime)) sigkill(-pid);
  for (const p of tree) sigkill(p);
  return tree;
}
