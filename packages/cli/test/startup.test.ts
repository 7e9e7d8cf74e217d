// The CLI's start-up is most of a short `faultline run` (issue #17): each command loads only what it
// uses. These run the built CLI with a hook that lists the modules it loads.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPORTER_NAMES } from '@faultline/runner';
import { afterAll, describe, expect, test } from 'vitest';
import { REPORTER_LIST } from '../src/commands.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'faultline.js');
const HOOK = join(import.meta.dirname, 'fixtures', 'count-modules.mjs');
const MATRIX = join(import.meta.dirname, '..', '..', '..', 'examples', 'rust-kv', 'matrix.yaml');
const scratch = mkdtempSync(join(tmpdir(), 'faultline-startup-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The file modules `faultline <args>` loads. */
async function loadedBy(args: string[]): Promise<string[]> {
  const file = join(scratch, `${args[0]}.txt`);
  await promisify(execFile)(process.execPath, ['--import', HOOK, BIN, ...args], {
    env: { ...process.env, FAULTLINE_LOADED_FILE: file },
  });
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

const from = (urls: string[], pattern: RegExp) => urls.filter((u) => pattern.test(u));

describe('CLI start-up', () => {
  test('the help texts name the runner reporters', () => {
    expect(REPORTER_LIST).toBe(REPORTER_NAMES.join(', '));
  });

  test('--help loads the command table and nothing of the toolkit', async () => {
    const urls = await loadedBy(['--help']);
    expect(from(urls, /\/(matrix|runner|crash)\/|node_modules\/(zod|yaml|execa)\//)).toEqual([]);
  });

  test('validate loads the matrix package, not the runner, crash or execa', async () => {
    const urls = await loadedBy(['validate', '--matrix', MATRIX]);
    expect(from(urls, /\/matrix\/dist\//).length).toBeGreaterThan(0);
    expect(from(urls, /\/(runner|crash)\/|node_modules\/(execa|fast-xml-parser|junit-report-builder)\//)).toEqual([]);
  });

  test('the runner as `run` loads it has no execa, crash harness, XML parser, JUnit writer or node:http in it', async () => {
    // `list` loads the runner's entry point, which `run` loads too, and reads no JUnit. (node:http brings
    // undici along on Node 24: container-reap loads it when there is an engine to ask.)
    const urls = await loadedBy(['list', '--matrix', MATRIX, '--results', scratch]);
    expect(from(urls, /\/runner\/dist\/index\.js$/).length).toBe(1);
    expect(
      from(
        urls,
        /node_modules\/(execa|fast-xml-parser|junit-report-builder)\/|\/crash\/dist\/(?!processes|process-table)|^node:http$/,
      ),
    ).toEqual([]);
  });
});
