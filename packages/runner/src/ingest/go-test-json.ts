// `go test -json` (test2json): one event per line, { Action, Package, Test, Elapsed, Output }. A
// test's output lines are its errors when it fails; `    file_test.go:42: message` gives the line.
import type { TestState } from '@faultline/matrix';
import type { ResultsReader } from './types.ts';

interface GoEvent {
  Action?: string;
  Package?: string;
  Test?: string;
  Elapsed?: number;
  Output?: string;
}

const STATE: Record<string, TestState> = { pass: 'passed', fail: 'failed', skip: 'skipped' };
// go test's own framing lines are not the test's output.
const FRAMING = /^\s*(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|FAIL|SKIP):)\s/;
const LOCATION = /^\s+([\w./-]+\.go):(\d+): ?(.*)$/;

function parseLines(text: string): GoEvent[] {
  const events: GoEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue; // build output and anything else the command printed
    try {
      events.push(JSON.parse(line) as GoEvent);
    } catch {
      // A line torn by a kill at the timeout.
    }
  }
  return events;
}

export const goTestJsonReader: ResultsReader = {
  format: 'go-test-json',
  stdout: true,
  read(text) {
    const tests = new Map<string, { pkg: string; name: string; output: string[]; action?: string; elapsed: number }>();
    for (const e of parseLines(text)) {
      if (!e.Test || !e.Package) continue;
      const key = `${e.Package}\u0000${e.Test}`;
      const t = tests.get(key) ?? { pkg: e.Package, name: e.Test, output: [], elapsed: 0 };
      tests.set(key, t);
      if (e.Action === 'output' && e.Output !== undefined) t.output.push(e.Output);
      if (e.Action && e.Action in STATE) {
        t.action = e.Action;
        t.elapsed = e.Elapsed ?? 0;
      }
    }
    const all = [...tests.values()];
    return all.map((t) => {
      const own = t.output.filter((l) => !FRAMING.test(l)).join('');
      // A parent test fails when a subtest does, with no output of its own: name the subtest.
      const failedSub = all.find((o) => o.pkg === t.pkg && o.name.startsWith(`${t.name}/`) && o.action === 'fail');
      const at = own
        .split('\n')
        .map((l) => LOCATION.exec(l))
        .find((m) => m !== null);
      // A test still running when the command was killed has no end event.
      const state: TestState = t.action ? (STATE[t.action] ?? 'failed') : 'failed';
      const message =
        own.trim() ||
        (!t.action
          ? 'did not finish (the command ended or was killed first)'
          : failedSub
            ? `subtest ${failedSub.name} failed`
            : 'failed');
      return {
        name: t.name,
        suite: t.pkg,
        ...(at ? { file: at[1], line: Number(at[2]) } : {}),
        state,
        durationMs: Math.round(t.elapsed * 1000),
        errors: state === 'failed' ? [{ message: message.split('\n')[0]!, stack: message }] : [],
        ...(own ? { output: own } : {}),
        ...(state === 'skipped' && own.trim() ? { note: own.trim().split('\n').pop()!.trim() } : {}),
        issues: [],
      };
    });
  },
};
