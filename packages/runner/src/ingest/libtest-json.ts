// libtest's JSON (`cargo test -- -Z unstable-options --format json`, on stable with
// RUSTC_BOOTSTRAP=1): { type: "test", event: started|ok|failed|ignored, name, exec_time, stdout }.
// Several test binaries print one suite each. A panic's `at file:line:col` gives the line.
import type { TestState } from '@faultline/matrix';
import type { IngestedTest, ResultsReader } from './types.ts';

interface LibtestEvent {
  type?: string;
  event?: string;
  name?: string;
  exec_time?: number;
  stdout?: string;
  message?: string;
}

const STATE: Record<string, TestState> = { ok: 'passed', failed: 'failed', ignored: 'skipped', timeout: 'failed' };
const PANIC = /panicked at ([^\s:]+\.rs):(\d+):\d+:\n([\s\S]*?)(\nstack backtrace:|\nnote: |$)/;

export const libtestJsonReader: ResultsReader = {
  format: 'libtest-json',
  stdout: true,
  read(text) {
    // Keyed per test binary (suite): two binaries may hold tests of the same name.
    const tests = new Map<string, IngestedTest>();
    let suite = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      let e: LibtestEvent;
      try {
        e = JSON.parse(line) as LibtestEvent;
      } catch {
        continue; // torn by a kill at the timeout
      }
      if (e.type === 'suite' && e.event === 'started') suite++;
      if (e.type !== 'test' || !e.name || !e.event) continue;
      const key = `${suite}\u0000${e.name}`;
      if (e.event === 'started') {
        // Replaced by its end event; left as failed if the binary died mid-test.
        const message = 'did not finish (the test binary ended or was killed first)';
        tests.set(key, { name: e.name, state: 'failed', durationMs: 0, errors: [{ message }], issues: [] });
        continue;
      }
      const state = STATE[e.event] ?? 'failed';
      const out = e.stdout ?? '';
      const panic = PANIC.exec(out);
      const message = panic?.[3]?.trim() || e.message || out.trim().split('\n')[0] || 'failed';
      tests.set(key, {
        name: e.name,
        ...(panic ? { file: panic[1]!.replace(/^\.\//, ''), line: Number(panic[2]) } : {}),
        state,
        durationMs: Math.round((e.exec_time ?? 0) * 1000),
        errors: state === 'failed' ? [{ message, ...(out ? { stack: out } : {}) }] : [],
        ...(out ? { output: out } : {}),
        ...(state === 'skipped' && e.message ? { note: e.message } : {}),
        issues: [],
      });
    }
    return [...tests.values()];
  },
};
