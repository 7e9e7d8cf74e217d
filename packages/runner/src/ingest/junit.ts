// JUnit XML as pytest (--junitxml), gotestsum (--junitfile), cargo-nextest and Maven Surefire write
// it: <testsuites>/<testsuite> (nested suites too) holding <testcase>s. file/line attributes are
// kept where present (pytest, nextest, GitHub's schema); pytest's `line` is 0-based.

import { createRequire } from 'node:module';
import type { TestError } from '@faultline/matrix';
import type { XMLParser } from 'fast-xml-parser';
import type { IngestedTest, ResultsReader } from './types.ts';

/** The JUnit property through which a test claims matrix issues (several: one property each, or comma-separated). */
export const ISSUE_PROPERTY = 'faultline.issue';

type Node = Record<string, unknown>;

let parser: XMLParser | undefined;

/**
 * The XML parser, loaded on the first JUnit file read, so that running anything else never loads it.
 * Its CommonJS build loads synchronously, where the (synchronous) reader needs it.
 */
function xmlParser(): XMLParser {
  if (parser) return parser;
  const { XMLParser: Parser } = createRequire(import.meta.url)('fast-xml-parser') as typeof import('fast-xml-parser');
  parser = new Parser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    textNodeName: '#text',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    isArray: (name) => ['testsuite', 'testcase', 'property', 'failure', 'error', 'skipped'].includes(name),
    processEntities: true,
  });
  return parser;
}

const list = (v: unknown): Node[] => (Array.isArray(v) ? (v as Node[]) : v && typeof v === 'object' ? [v as Node] : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const text = (n: Node | string): string => (typeof n === 'string' ? n : (str(n['#text']) ?? ''));

function problems(nodes: Node[]): TestError[] {
  return nodes.map((n) => {
    const body = text(n).trim();
    const message = str(n.message) ?? body.split('\n')[0] ?? 'failed';
    return { message, ...(body && body !== message ? { stack: body } : {}) };
  });
}

function issuesOf(tc: Node): string[] {
  const props = list((tc.properties as Node | undefined)?.property);
  return props
    .filter((p) => p.name === ISSUE_PROPERTY)
    .flatMap((p) => (str(p.value) ?? text(p)).split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

function testOf(tc: Node, zeroBasedLines: boolean): IngestedTest {
  const failures = [...list(tc.failure), ...list(tc.error)];
  const skipped = list(tc.skipped);
  const line = Number(str(tc.line));
  const out = [str((tc['system-out'] as unknown) ?? undefined), str(tc['system-err'])].filter(Boolean).join('\n');
  const file = str(tc.file);
  return {
    name: str(tc.name) ?? '(unnamed)',
    ...(str(tc.classname) ? { suite: str(tc.classname) } : {}),
    ...(file ? { file: file.replaceAll('\\', '/').replace(/^\.\//, '') } : {}),
    ...(Number.isFinite(line) && str(tc.line) !== undefined ? { line: line + (zeroBasedLines ? 1 : 0) } : {}),
    state: failures.length ? 'failed' : skipped.length ? 'skipped' : 'passed',
    durationMs: Math.round(Number(str(tc.time) ?? 0) * 1000) || 0,
    errors: problems(failures),
    ...(out ? { output: out } : {}),
    ...(skipped.length && str(skipped[0]?.message) ? { note: str(skipped[0]?.message) } : {}),
    issues: issuesOf(tc),
  };
}

function collect(suite: Node, pytest: boolean, out: IngestedTest[]): void {
  const isPytest = pytest || suite.name === 'pytest';
  for (const tc of list(suite.testcase)) out.push(testOf(tc, isPytest));
  for (const inner of list(suite.testsuite)) collect(inner, isPytest, out);
}

export const junitReader: ResultsReader = {
  format: 'junit',
  stdout: false,
  read(xml) {
    const doc = xmlParser().parse(xml) as Node;
    const roots = [...list((doc.testsuites as Node | undefined) ?? {}), ...list(doc.testsuite)];
    if (!('testsuites' in doc) && !('testsuite' in doc))
      throw new Error('not JUnit XML: no <testsuites> or <testsuite> element');
    const out: IngestedTest[] = [];
    for (const root of roots) collect(root, false, out);
    return out;
  },
};
