import { describe, expect, test } from 'vitest';
import { workerArgs, workerInvocation, workerRole } from '../src/worker.ts';

describe('self-spawn gating', () => {
  test('a worker needs both the argv flag and the matching env var', () => {
    const argv = ['node', 'file.ts', '--faultline-worker=writer', 'a', 'b'];
    expect(workerRole(argv, { FAULTLINE_WORKER: 'writer' })).toBe('writer');
    expect(workerArgs(argv)).toEqual(['a', 'b']);
    expect(workerRole(['node', 'file.ts'], { FAULTLINE_WORKER: 'writer' })).toBeUndefined();
  });

  test('the flag without the env var (or with another role) refuses loudly instead of misfiring', () => {
    const argv = ['node', 'file.ts', '--faultline-worker=writer'];
    expect(() => workerRole(argv, {})).toThrow(/reserved for workers spawned by @faultline\/crash.*unset/);
    expect(() => workerRole(argv, { FAULTLINE_WORKER: 'reader' })).toThrow(/is 'reader'/);
  });

  test('roles must be safe to carry in argv and env', () => {
    expect(workerInvocation('w-1')).toEqual({ args: ['--faultline-worker=w-1'], env: { FAULTLINE_WORKER: 'w-1' } });
    expect(() => workerInvocation('a b')).toThrow(/must match/);
  });
});
