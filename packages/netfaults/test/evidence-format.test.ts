// The backend-independent half of issue 22: which counters a /metrics body offers, and what a
// toxic or partition records from each, including backends that cannot tell (real Toxiproxy's
// per-proxy counters, no /metrics, a port this machine cannot hold).
import { actedOn, type FaultEvidenceInput } from '@faultline/evidence';
import { describe, expect, test } from 'vitest';
import { partitionEvidence, toxicEvidence } from '../src/evidence.ts';
import { parseToxicCounters } from '../src/metrics.ts';

const REAL_TOXIPROXY = [
  '# HELP toxiproxy_proxy_received_bytes_total The total bytes received from a source of a link',
  '# TYPE toxiproxy_proxy_received_bytes_total counter',
  'toxiproxy_proxy_received_bytes_total{direction="upstream",listener="[::]:8666",proxy="a",upstream="x:1"} 5',
].join('\n');

const OURS = [
  REAL_TOXIPROXY,
  '# HELP faultline_toxic_bytes_total Bytes that reached a toxic while it acted (not spared by toxicity)',
  '# TYPE faultline_toxic_bytes_total counter',
  'faultline_toxic_bytes_total{direction="downstream",proxy="a",toxic="t",type="latency"} 21',
  'faultline_toxic_bytes_total{direction="downstream",proxy="a",toxic="t",type="noop"} 4',
  '# TYPE faultline_toxic_connections_total counter',
  'faultline_toxic_connections_total{direction="downstream",proxy="a",toxic="t",type="latency"} 1',
  'faultline_toxic_connections_total{direction="downstream",proxy="a",toxic="t",type="noop"} 1',
].join('\n');

/** Whether the entry covers once recorded (recordFault fills `count` with 1). */
const covers = (e: FaultEvidenceInput): boolean => actedOn({ ...e, count: e.count ?? 1 });

const facts = {
  proxy: 'a',
  name: 't',
  type: 'latency',
  stream: 'downstream' as const,
  toxicity: 1,
  attributes: { latency: 100, jitter: 0 },
  activeMs: 120,
  backend: 'containers',
};

describe('metrics', () => {
  test('real Toxiproxy has no per-toxic counters; ours are summed per proxy and toxic', () => {
    expect(parseToxicCounters(REAL_TOXIPROXY)).toBeUndefined();
    expect(parseToxicCounters(OURS)?.get('a\u0000t')).toEqual({ bytes: 25, connections: 2 });
  });
});

describe('toxic evidence per counter', () => {
  test('per-proxy counters (real Toxiproxy): bytes covered but said to be per proxy at close', () => {
    const { evidence } = toxicEvidence(facts, { counter: 'proxy', flow: { upstream: 5, downstream: 37 } });
    expect(covers(evidence)).toBe(true);
    expect(evidence.detail).toBe(
      'latency downstream latency=100 jitter=0 active 120 ms, 42 bytes through the proxy (per proxy, counted when connections close: the server cannot tell per toxic)',
    );
  });

  test('per-proxy counters at zero: did not act as far as the server can tell', () => {
    const { evidence, acted } = toxicEvidence(facts, { counter: 'proxy', flow: { upstream: 0, downstream: 0 } });
    expect(acted).toBe(false);
    expect(evidence.acted).toBe(false);
    expect(evidence.detail).toMatch(/did not act as far as the server can tell: .*a connection still open is not seen/);
  });

  test('no /metrics: cannot tell, said so, and still covers', () => {
    const { evidence, acted } = toxicEvidence(facts, { counter: 'none' });
    expect(acted).toBeUndefined();
    expect(covers(evidence)).toBe(true);
    expect(evidence.attributes).toMatchObject({ acted: 'unknown', counter: 'none' });
    expect(evidence.detail).toMatch(/cannot tell whether it acted$/);
  });
});

describe('partition evidence per counter', () => {
  const p = {
    proxy: 'a',
    address: '127.0.0.1:1',
    upstream: '127.0.0.1:2',
    mode: 'refuse' as const,
    durationMs: 80,
    backend: 'containers',
  };

  test('attempts not countable (bridge networking): said so, and still covers', () => {
    const e = partitionEvidence(p, { counter: 'none', why: 'the proxy port is not on this machine' });
    expect(covers(e)).toBe(true);
    expect(e.detail).toBe(
      'refuse partition of a (127.0.0.1:1 -> 127.0.0.1:2) lasted 80 ms; attempts not counted (the proxy port is not on this machine): cannot tell whether it acted',
    );
  });

  test('blackhole on real Toxiproxy: bytes per proxy at close', () => {
    const hole = { ...p, mode: 'blackhole' as const };
    expect(partitionEvidence(hole, { counter: 'proxy', bytes: 0 }).acted).toBe(false);
    expect(partitionEvidence(hole, { counter: 'proxy', bytes: 9 }).detail).toMatch(
      /black-holed 9 bytes in 80 ms \(per proxy, counted when connections close/,
    );
  });
});
