import { captureEvidence, type EvidenceLog } from '@faultline/evidence';
import { beforeEach, describe, expect, test } from 'vitest';
import {
  describeMode,
  errnoError,
  FailAfterN,
  FailEveryNth,
  faulty,
  Healthy,
  isInjectedFault,
  PartialRead,
  ReturnError,
  Timeout,
} from '../src/index.ts';

let log: EvidenceLog;
beforeEach(() => {
  const capture = captureEvidence();
  log = capture.log;
  return capture.restore;
});

class Store {
  #data = new Map<string, string>();
  put(key: string, value: string): void {
    this.#data.set(key, value);
  }
  get(key: string): string | undefined {
    return this.#data.get(key);
  }
  async fetch(key: string): Promise<Buffer> {
    return Buffer.from(this.#data.get(key) ?? '');
  }
  size = 3;
}

const outcome = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
};

describe('faulty()', () => {
  test('Healthy passes through; methods keep private fields and identity', () => {
    const { proxy, control } = faulty(new Store(), Healthy);
    proxy.put('a', '1');
    expect(proxy.get('a')).toBe('1');
    expect(proxy.size).toBe(3);
    expect(proxy.get).toBe(proxy.get);
    expect(control.calls).toBe(2);
    expect(control.failures).toBe(0);
    expect(log.entries).toEqual([]);
  });

  test('FailEveryNth(3) fails calls 3, 6, 9 with a real errno error and records evidence', () => {
    const { proxy, control } = faulty(new Store(), FailEveryNth(3));
    const results = Array.from({ length: 9 }, (_, i) => outcome(() => proxy.put(`k${i}`, 'v')));
    expect(results).toEqual(['ok', 'ok', 'EIO', 'ok', 'ok', 'EIO', 'ok', 'ok', 'EIO']);
    expect(control.calls).toBe(9);
    expect(control.failures).toBe(3);
    expect(control.callsOf('put')).toBe(9);
    let error: NodeJS.ErrnoException | undefined;
    try {
      proxy.get('x');
      proxy.get('x');
      proxy.get('x');
    } catch (e) {
      error = e as NodeJS.ErrnoException;
    }
    expect(error).toMatchObject({ code: 'EIO', errno: -5, syscall: 'get', message: 'EIO: i/o error, get' });
    expect(isInjectedFault(error)).toBe(true);
    expect(isInjectedFault(new Error('real'))).toBe(false);
    expect(log.entries).toMatchObject([
      { kind: 'fault', name: 'Store', detail: 'Store.put failed with EIO (FailEveryNth(3, EIO))', count: 3 },
      { kind: 'fault', name: 'Store', detail: 'Store.get failed with EIO (FailEveryNth(3, EIO))', count: 1 },
    ]);
    expect(log.entries[0]!.source).toBe('@faultline/faults');
  });

  test('FailAfterN(2) lets two calls through then fails; setMode switches at runtime and restarts counting', () => {
    const { proxy, control } = faulty(new Store(), FailAfterN(2, 'ENOSPC'));
    expect([1, 2, 3, 4].map(() => outcome(() => proxy.put('k', 'v')))).toEqual(['ok', 'ok', 'ENOSPC', 'ENOSPC']);
    control.setMode(Healthy);
    expect(outcome(() => proxy.put('k', 'v'))).toBe('ok');
    control.setMode(FailAfterN(1));
    expect([1, 2].map(() => outcome(() => proxy.put('k', 'v')))).toEqual(['ok', 'EIO']);
    expect(control.mode).toEqual(FailAfterN(1));
    control.reset();
    expect([control.calls, control.failures]).toEqual([0, 0]);
  });

  test('ReturnError(errno) fails every call; async methods reject instead of throwing', async () => {
    const { proxy } = faulty(new Store(), ReturnError('EACCES'));
    expect(outcome(() => proxy.get('a'))).toBe('EACCES');
    const pending = proxy.fetch('a'); // must not throw synchronously
    await expect(pending).rejects.toMatchObject({ code: 'EACCES', errno: -13, syscall: 'fetch' });
    expect(() => ReturnError('ENOTANERRNO')).toThrow(/unknown errno code "ENOTANERRNO"/);
    expect(ReturnError(28)).toEqual(ReturnError('ENOSPC'));
  });

  test('a promise-returning function that is not declared async rejects once it has been seen returning a promise', async () => {
    const read = (k: string) => Promise.resolve(k);
    const { proxy, control } = faulty(read, Healthy);
    expect(await proxy('a')).toBe('a');
    control.setMode(ReturnError('EIO'));
    await expect(proxy('b')).rejects.toMatchObject({ code: 'EIO', syscall: 'read' });
    const forced = faulty((k: string) => Promise.resolve(k), ReturnError('EIO'), { async: true, name: 'load' });
    await expect(forced.proxy('x')).rejects.toMatchObject({ code: 'EIO', syscall: 'load' });
  });

  test('Timeout(ms) hangs then rejects with ETIMEDOUT without reaching the target', async () => {
    let reached = false;
    const { proxy } = faulty(async () => {
      reached = true;
      return 1;
    }, Timeout(40));
    const t = performance.now();
    await expect(proxy()).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(performance.now() - t).toBeGreaterThanOrEqual(35);
    expect(reached).toBe(false);
    expect(log.entries[0]!.detail).toMatch(/timed out after 40 ms \(Timeout\(40\)\)/);
  });

  test('PartialRead(maxBytes) truncates Buffer, Uint8Array, string and { bytesRead } results', async () => {
    const source = {
      buffer: () => Buffer.from('hello world'),
      bytes: () => new Uint8Array([1, 2, 3, 4, 5, 6]),
      text: () => 'héllo', // é is two bytes: the cut must not split it
      read: async () => ({ bytesRead: 10, buffer: Buffer.alloc(10) }),
      small: () => Buffer.from('hi'),
    };
    const { proxy, control } = faulty(source, PartialRead(2));
    expect(proxy.buffer().toString()).toBe('he');
    expect(Buffer.isBuffer(proxy.buffer())).toBe(true);
    expect(proxy.bytes()).toEqual(new Uint8Array([1, 2]));
    expect(proxy.text()).toBe('h');
    expect((await proxy.read()).bytesRead).toBe(2);
    expect(proxy.small().toString()).toBe('hi'); // already short: not a failure
    expect(control.failures).toBe(5);
    control.setMode(PartialRead(3));
    expect(proxy.text()).toBe('hé');
  });

  test('plain functions, method filters, and mode validation', () => {
    function add(a: number, b: number) {
      return a + b;
    }
    const { proxy } = faulty(add, FailEveryNth(2));
    expect(proxy(1, 2)).toBe(3);
    expect(outcome(() => proxy(1, 2))).toBe('EIO');
    expect(log.entries[0]!.detail).toBe('add failed with EIO (FailEveryNth(2, EIO))');
    const only = faulty(new Store(), ReturnError('EIO'), { methods: ['put'] });
    expect(only.proxy.get('a')).toBeUndefined();
    expect(outcome(() => only.proxy.put('a', 'b'))).toBe('EIO');
    expect(() => FailEveryNth(0)).toThrow(/FailEveryNth\(n\): expected an integer >= 1, got 0/);
    expect(() => faulty(42 as unknown as object, Healthy)).toThrow(/must be an object or a function/);
    expect(describeMode(Timeout(5))).toBe('Timeout(5)');
    expect(errnoError('ENOSPC', 'write', '/x')).toMatchObject({
      message: "ENOSPC: no space left on device, write '/x'",
      path: '/x',
    });
  });
});
