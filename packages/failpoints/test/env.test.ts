// FAILPOINTS read at import, FAULTLINE_SEED replay, and the Node crash tasks in real child processes.
import { describe, expect, test } from 'vitest';
import { runChild } from './child.ts';

describe('FAILPOINTS at import', () => {
  test('20: a child started with FAILPOINTS has them set (trailing ; ok), list() shows them', async () => {
    const r = await runChild('once', { FAILPOINTS: ' a=return(1);b=5*off->panic; ' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      a: '1',
      b: 'no-op',
      list: [
        ['a', 'return(1)'],
        ['b', '5*off->panic'],
      ],
    });
  });

  test('20: a bad FAILPOINTS entry ends the process with a clear message', async () => {
    const missingEq = await runChild('once', { FAILPOINTS: 'a=return;oops' });
    expect(missingEq.code).toBe(2);
    expect(missingEq.stderr).toMatch(/failpoints: FAILPOINTS: invalid failpoint "oops": expected name=spec/);
    const badAction = await runChild('once', { FAILPOINTS: 'a=sleep' });
    expect(badAction.code).toBe(2);
    expect(badAction.stderr).toMatch(/unable to configure failpoint "a": .*sleep requires a timeout/);
  });

  test('FAILPOINTS_HTTP refuses non-loopback hosts', async () => {
    const r = await runChild('once', { FAILPOINTS_HTTP: '0.0.0.0:0' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/FAILPOINTS_HTTP=0\.0\.0\.0:0: .*refusing non-loopback host/);
  });

  test('FAULTLINE_SEED replays a probabilistic point exactly across processes', async () => {
    const env = { FAILPOINTS: 'p=50%return', FAULTLINE_SEED: '123456' };
    const [a, b, c] = await Promise.all([
      runChild('pattern', env),
      runChild('pattern', env),
      runChild('pattern', { ...env, FAULTLINE_SEED: '654321' }),
    ]);
    const pa = JSON.parse(a.stdout) as { seed: number; bits: string };
    expect(pa.seed).toBe(123456);
    expect(JSON.parse(b.stdout)).toEqual(pa);
    expect((JSON.parse(c.stdout) as { bits: string }).bits).not.toBe(pa.bits);
  });
});

describe('crash tasks kill the process for real', () => {
  test('exit(code)', async () => {
    const r = await runChild('once', { FAILPOINTS: 'a=exit(7)' });
    expect([r.code, r.signal]).toEqual([7, null]);
    expect(r.stderr).toMatch(/"a" fired exit\(7\)/);
    expect(r.stdout).toBe('');
  });

  test('kill(SIGNAL)', async () => {
    const r = await runChild('once', { FAILPOINTS: 'b=kill(SIGKILL)' });
    expect([r.code, r.signal]).toEqual([null, 'SIGKILL']);
    const term = await runChild('once', { FAILPOINTS: 'b=1*kill(TERM)' });
    expect(term.signal).toBe('SIGTERM');
  });

  test('abort', async () => {
    const r = await runChild('once', { FAILPOINTS: 'a=abort' });
    expect([r.code, r.signal]).toEqual([null, 'SIGABRT']);
  });
});
