// panic-hook: a real uncaughtException / unhandledRejection inside the daemon's process is
// logged as one JSON line with its stack and context (state, in-flight), counted in status, and
// then handled by policy (`continue` keeps serving; `exit` exits with 70 after logging). Fault:
// the daemon's own `PUT /actions/raise` (unsafe.allowRaise) throwing from a timer callback or
// leaving a rejected promise unhandled, caught by the handlers `installProcessHandlers` installs
// on this very process.
import { recordFault } from '@faultline/vitest';
import {
  installProcessHandlers,
  jsonLogger,
  type MediaCache,
  type UncaughtKind,
  type UncaughtPolicy,
} from 'media-cache';
import { afterEach, describe, expect, test } from 'vitest';
import { CHUNK, cleanup, controlRequest, httpGet, startCache, waitFor, writeMedia } from './helpers.ts';

afterEach(cleanup);

type Listener = (...args: unknown[]) => void;

/**
 * Runs `body` with media-cache's process handlers as the ONLY uncaughtException /
 * unhandledRejection listeners (vitest's own are set aside and restored afterwards), so the
 * handlers see a real uncaught fault exactly as they would in the daemon process.
 */
async function withDaemonHandlers<T>(
  mc: MediaCache,
  policy: UncaughtPolicy,
  body: (ctx: { lines: Array<Record<string, unknown>>; faults: UncaughtKind[]; exits: number[] }) => Promise<T>,
): Promise<T> {
  const events = ['uncaughtException', 'unhandledRejection'] as const;
  const saved = events.map((e) => [e, process.rawListeners(e) as Listener[]] as const);
  const lines: Array<Record<string, unknown>> = [];
  const faults: UncaughtKind[] = [];
  const exits: number[] = [];
  for (const e of events) process.removeAllListeners(e);
  const uninstall = installProcessHandlers({
    policy,
    log: jsonLogger({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }),
    context: () => ({ state: mc.state, inflight: mc.dataServer.inflight.size }),
    onFault: (kind, error) => {
      faults.push(kind);
      mc.noteUncaught(kind);
      recordFault({
        kind: 'uncaught',
        name: kind,
        detail: `${kind} reached the process handlers: ${error instanceof Error ? error.message : String(error)}`,
        attributes: { policy },
      });
    },
    exit: (code) => exits.push(code),
  });
  try {
    return await body({ lines, faults, exits });
  } finally {
    uninstall();
    for (const [e, listeners] of saved) for (const l of listeners) process.on(e, l);
  }
}

async function raisingCache() {
  const s = await startCache({ config: { unsafe: { allowRaise: true }, onUncaught: 'continue' } });
  const data = await writeMedia(s.media, 'x.bin', CHUNK);
  return { ...s, data };
}

describe('panic-hook', () => {
  test('an uncaught exception is logged with stack and context, counted, and the daemon keeps serving', {
    tags: ['panic-hook'],
  }, async () => {
    const { mc, data } = await raisingCache();
    await withDaemonHandlers(mc, 'continue', async ({ lines, faults, exits }) => {
      const reply = await controlRequest(mc.controlSocket, 'PUT', '/actions/raise?kind=exception');
      expect(reply.status).toBe(200);
      await waitFor('the uncaught exception to reach the handler', () => faults.length === 1, 2_000);
      expect(faults).toEqual(['uncaughtException']);
      expect(exits).toEqual([]);
      const line = lines.find((l) => l.event === 'uncaught-exception');
      expect(line).toBeDefined();
      expect(line).toMatchObject({ level: 'error', policy: 'continue', context: { state: 'ready' } });
      const error = line!.error as { message: string; stack: string };
      expect(error.message).toMatch(/raised on request/);
      expect(error.stack).toMatch(/\n\s+at /); // a real stack, not just the message
      expect(typeof (line!.context as { inflight: unknown }).inflight).toBe('number');
    });
    expect(mc.status().counters.uncaughtExceptions).toBe(1);
    const after = await httpGet(`${mc.httpUrl}/files/x.bin`);
    expect(after.status).toBe(200);
    expect(after.body.equals(data)).toBe(true);
    expect(mc.state).toBe('ready');
  });

  test('an unhandled rejection is logged with its stack and counted', { tags: ['panic-hook'] }, async () => {
    const { mc } = await raisingCache();
    await withDaemonHandlers(mc, 'continue', async ({ lines, faults }) => {
      const reply = await controlRequest(mc.controlSocket, 'PUT', '/actions/raise?kind=rejection');
      expect(reply.status).toBe(200);
      await waitFor('the unhandled rejection to reach the handler', () => faults.length === 1, 2_000);
      expect(faults).toEqual(['unhandledRejection']);
      const line = lines.find((l) => l.event === 'unhandled-rejection');
      expect(line).toMatchObject({ level: 'error', policy: 'continue', context: { state: 'ready' } });
      expect((line!.error as { stack: string }).stack).toMatch(/kind=rejection[\s\S]*\n\s+at /);
    });
    expect(mc.status().counters.unhandledRejections).toBe(1);
  });

  test('policy exit: the fault is logged as fatal first, then the process exits with 70', {
    tags: ['panic-hook'],
  }, async () => {
    const { mc } = await raisingCache();
    await withDaemonHandlers(mc, 'exit', async ({ lines, faults, exits }) => {
      const order: string[] = [];
      const before = lines.length;
      await controlRequest(mc.controlSocket, 'PUT', '/actions/raise?kind=exception');
      await waitFor('the exit policy to run', () => exits.length === 1, 2_000);
      order.push(...lines.slice(before).map((l) => `log:${String(l.event)}`), `exit:${exits[0]}`);
      expect(faults).toEqual(['uncaughtException']);
      expect(exits).toEqual([70]);
      expect(order).toEqual(['log:uncaught-exception', 'exit:70']);
      expect(lines.at(-1)).toMatchObject({ level: 'fatal', policy: 'exit' });
    });
  });
});
