import { describe, expect, test } from 'vitest';
import { ATTEMPT_LABEL, attemptLabels, DEFAULT_ENGINE_SOCKET, engineEndpoint } from '../src/engine.ts';

describe('engineEndpoint', () => {
  test('DOCKER_HOST unset: the default socket', () => {
    expect(engineEndpoint({})).toEqual({ socketPath: DEFAULT_ENGINE_SOCKET });
  });
  test('unix:// and plain tcp:// hosts; TLS and ssh cannot be asked over plain HTTP', () => {
    expect(engineEndpoint({ DOCKER_HOST: 'unix:///run/podman/podman.sock' })).toEqual({
      socketPath: '/run/podman/podman.sock',
    });
    expect(engineEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5:2375' })).toEqual({ host: '10.0.0.5', port: 2375 });
    expect(engineEndpoint({ DOCKER_HOST: 'tcp://engine' })).toEqual({ host: 'engine', port: 2375 });
    expect(engineEndpoint({ DOCKER_HOST: 'tcp://engine:2376', DOCKER_TLS_VERIFY: '1' })).toBeUndefined();
    expect(engineEndpoint({ DOCKER_HOST: 'ssh://me@engine' })).toBeUndefined();
  });
});

describe('attemptLabels', () => {
  test("the runner's attempt id as a label under a run, nothing outside one", () => {
    expect(attemptLabels({ FAULTLINE_ATTEMPT_ID: 'l3-7-abc' })).toEqual({ [ATTEMPT_LABEL]: 'l3-7-abc' });
    expect(ATTEMPT_LABEL).toBe('dev.faultline.attempt');
    expect(attemptLabels({})).toEqual({});
  });
});
