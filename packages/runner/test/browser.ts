// Which Chromium renders matrix.html in the tests: FAULTLINE_BROWSER, else the first Chromium-family
// browser on PATH or in the usual places, else playwright's own download if one exists. The test
// names the browser and version it used, so a run on another machine says what it proved.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium } from 'playwright-core';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome', 'chrome'];
const PLACES = [
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

export interface FoundBrowser {
  path: string;
  /** What `--version` printed, e.g. "Chromium 131.0.6778.85 built on Debian…". */
  version: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function playwrightDownload(): string | undefined {
  try {
    const path = chromium.executablePath();
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** The browser to use, or an error saying where we looked and how to get one. */
export function findBrowser(): FoundBrowser {
  const explicit = process.env.FAULTLINE_BROWSER;
  const candidates = explicit ? [explicit] : [...NAMES.map(onPath), ...PLACES, playwrightDownload()];
  const path = candidates.find((p): p is string => p !== undefined && existsSync(p));
  if (!path) {
    throw new Error(
      explicit
        ? `FAULTLINE_BROWSER=${explicit} does not exist`
        : `no Chromium-family browser found (looked for ${NAMES.join(', ')} on PATH and playwright's download): install one (\`apt-get install chromium\`, as the CI script does) or set FAULTLINE_BROWSER to its path`,
    );
  }
  const version = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  return { path, version };
}
