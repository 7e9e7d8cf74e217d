// Checklist §7 "Control", items 17-22, plus scenario isolation.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import {
  cfg,
  cfgCallback,
  count,
  FailScenario,
  failpoint,
  failpointAsync,
  hasFailpoints,
  list,
  remove,
  scenario,
  setFailpointsEnabled,
  waitForHit,
} from '../src/index.ts';

/** Tracks whether a promise has settled, without awaiting it. */
function settled<T>(p: Promise<T>): { readonly done: boolean; promise: Promise<T> } {
  const state = { done: false, promise: p };
  p.then(
    () => {
      state.done = true;
    },
    () => {
      state.done = true;
    },
  );
  return state;
}

describe('control', () => {
  test('17: pause blocks until the config changes; re-cfg releases (no action), remove lets later hits pass', () =>
    scenario(async (fp) => {
      expect(await failpointAsync('ctl-17')).toBeUndefined(); // unconfigured: no block
      fp.cfg('ctl-17', 'pause');
      const first = settled(failpointAsync('ctl-17', () => 'returned'));
      await fp.waitForHit('ctl-17', { after: 0 });
      await sleep(50);
      expect(first.done).toBe(false);

      fp.cfg('ctl-17', 'pause'); // releases the waiter; it proceeds as a no-op
      expect(await first.promise).toBeUndefined();
      const second = settled(failpointAsync('ctl-17'));
      await fp.waitForHit('ctl-17', { after: 0 });
      await sleep(20);
      expect(second.done).toBe(false);

      fp.remove('ctl-17');
      expect(await second.promise).toBeUndefined();
      expect(await failpointAsync('ctl-17')).toBeUndefined();
    }));

  test('17b: waitForHit is bounded and rejects when the point goes away', () =>
    scenario(async (fp) => {
      fp.cfg('ctl-17b', 'off');
      await expect(fp.waitForHit('ctl-17b', { timeoutMs: 30 })).rejects.toThrow(
        /did not trigger more than 0 times within 30 ms/,
      );
      const waiting = fp.waitForHit('ctl-17b', { timeoutMs: 5000 });
      fp.remove('ctl-17b');
      await expect(waiting).rejects.toThrow(/was removed/);
      await expect(waitForHit('never-set')).rejects.toThrow(/not configured/);
    }));

  test('18: a callback runs on every hit from every call site', () =>
    scenario((fp) => {
      let n = 0;
      cfgCallback('ctl-18', () => n++); // the global function reaches the scenario's registry
      const siteA = () => failpoint('ctl-18');
      const siteB = () => failpoint('ctl-18');
      siteA();
      siteB();
      expect(n).toBe(2);
      expect(fp.list()).toEqual([['ctl-18', 'callback']]);
    }));

  test('19: cfg overwrites (including env-set config); list shows exact specs; remove deletes', async () => {
    const s = await FailScenario.setup({ failpoints: 'ctl-19=return(from-env)' });
    try {
      expect(failpoint('ctl-19', (a) => a)).toBe('from-env');
      expect(list()).not.toContainEqual(['list', 'off']);
      cfg('list', 'off');
      expect(list()).toContainEqual(['list', 'off']);
      cfg('list', ' return ');
      expect(list()).toContainEqual(['list', ' return ']);
      cfg('ctl-19', 'return(from-code)');
      expect(failpoint('ctl-19', (a) => a)).toBe('from-code');
      expect(remove('list')).toBe(true);
      expect(remove('list')).toBe(false);
      expect(list()).toEqual([['ctl-19', 'return(from-code)']]);
    } finally {
      s.teardown();
    }
  });

  test('20: scenario setup applies FAILPOINTS (trailing ; ok); teardown clears all and releases pauses', async () => {
    const saved = process.env.FAILPOINTS;
    process.env.FAILPOINTS = 'a=return;b=pause;';
    let s: FailScenario;
    try {
      s = await FailScenario.setup();
    } finally {
      if (saved === undefined) delete process.env.FAILPOINTS;
      else process.env.FAILPOINTS = saved;
    }
    expect(failpoint('a', () => 1)).toBe(1);
    const b = settled(failpointAsync('b', () => 1));
    await sleep(100);
    expect(b.done).toBe(false);
    s.teardown();
    expect(await b.promise).toBeUndefined();
    expect(failpoint('a', () => 1)).toBeUndefined();
    expect(list()).toEqual([]);

    await expect(FailScenario.setup({ failpoints: 'a=return;nonsense' })).rejects.toThrow(
      'failpoints: invalid failpoint "nonsense"',
    );
    await expect(FailScenario.setup({ failpoints: 'a=retrun' })).rejects.toThrow(
      /unable to configure failpoint "a": .*unknown task "retrun"/,
    );
    expect(list()).toEqual([]);
  });

  test('21: setup serializes holders and evicts a holder that never tore down', async () => {
    const first = await FailScenario.setup({ failpoints: {} });
    const order: string[] = [];
    const second = FailScenario.setup({ failpoints: {} }).then((s) => {
      order.push('second');
      return s;
    });
    await sleep(30);
    order.push('first-teardown');
    first.teardown();
    (await second).teardown();
    expect(order).toEqual(['first-teardown', 'second']);

    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const crashed = await FailScenario.setup({ failpoints: 'ctl-21=pause' });
      const paused = failpointAsync('ctl-21');
      void crashed; // the "test" that held it threw before teardown
      const next = await FailScenario.setup({ lockTimeoutMs: 50, failpoints: {} });
      expect(await paused).toBeUndefined(); // eviction released the pause
      next.teardown();
      await sleep(0);
      expect(warnings.join('\n')).toMatch(/did not tear down within 50 ms/);
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('21b: FailScenario works with `using`', async () => {
    {
      using s = await FailScenario.setup({ failpoints: { 'ctl-21b': 'return(1)' } });
      expect(s.count('ctl-21b')).toBe(0);
      expect(failpoint('ctl-21b', (a) => a)).toBe('1');
    }
    expect(failpoint('ctl-21b', (a) => a)).toBeUndefined();
  });

  test('22: disabled mode: points are no-ops, hooks never run, cfg still succeeds', () =>
    scenario((fp) => {
      setFailpointsEnabled(false);
      try {
        expect(hasFailpoints()).toBe(false);
        fp.cfg('ctl-22', 'return');
        let ran = false;
        expect(failpoint('ctl-22', () => (ran = true))).toBeUndefined();
        expect(ran).toBe(false);
        expect(fp.list()).toEqual([['ctl-22', 'return']]);
      } finally {
        setFailpointsEnabled(true);
      }
      expect(hasFailpoints()).toBe(true);
      expect(failpoint('ctl-22', () => true)).toBe(true);
    }));
});

describe('scenario isolation', () => {
  test('concurrent scenarios never see each other, nor leak into the global registry', async () => {
    const run = (value: string) =>
      scenario(async (fp) => {
        fp.cfg('shared-name', `return(${value})`);
        const seen: Array<string | undefined> = [];
        for (let i = 0; i < 20; i++) {
          await sleep(1);
          seen.push(failpoint('shared-name', (a) => a));
        }
        expect(list()).toEqual([['shared-name', `return(${value})`]]);
        return seen;
      });
    const [a, b] = await Promise.all([run('a'), run('b')]);
    expect(new Set(a)).toEqual(new Set(['a']));
    expect(new Set(b)).toEqual(new Set(['b']));
    expect(failpoint('shared-name', (x) => x)).toBeUndefined();
    expect(count('shared-name')).toBe(0);
  });

  test('teardown releases pauses even when the body throws, and late cfg is refused', async () => {
    let paused: Promise<undefined> | undefined;
    let late: (() => void) | undefined;
    await expect(
      scenario(async (fp) => {
        fp.cfg('iso-pause', 'pause');
        paused = failpointAsync('iso-pause');
        late = () => fp.cfg('iso-pause', 'off');
        throw new Error('test body failed');
      }),
    ).rejects.toThrow('test body failed');
    expect(await paused).toBeUndefined();
    expect(late).toThrow(/after the scenario was torn down/);
  });

  test('scenario options preconfigure points', () =>
    scenario(
      (fp) => {
        expect(failpoint('pre', (a) => a)).toBe('7');
        expect(fp.list()).toEqual([['pre', 'return(7)']]);
      },
      { failpoints: { pre: 'return(7)' } },
    ));
});
