// Setup file added by defineLayerProject: gives every test its own evidence log so that
// recordFault() works from test bodies and from library code, with no context passing.
// aroundEach runs the test (and its hooks) inside an AsyncLocalStorage scope, so concurrent
// tests keep their evidence apart; callbacks that escaped any test's async scope (a server
// created in beforeAll, say) fall back to the test that started last.
import { AsyncLocalStorage } from 'node:async_hooks';
import { EvidenceLog, setEvidenceSink } from '@faultline/evidence';
import { aroundEach } from 'vitest';
import './meta.ts';

const scope = new AsyncLocalStorage<EvidenceLog>();
let latest: EvidenceLog | undefined;

setEvidenceSink({
  record(evidence) {
    (scope.getStore() ?? latest)?.record(evidence);
  },
});

aroundEach(async (runTest, { task }) => {
  const log = new EvidenceLog();
  latest = log;
  try {
    await scope.run(log, runTest);
  } finally {
    if (latest === log) latest = undefined;
    task.meta.faultline = { evidence: log.entries, dropped: log.dropped };
  }
});
