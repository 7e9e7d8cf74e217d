// The one Node version check of faultline's entry points (the bins, the repository's require-node
// script, `faultline doctor`). Plain JavaScript with no imports at the top, so that an old Node
// reaches it and prints one clear line instead of a syntax or loader error from a dependency.

/** The Node versions faultline supports, as the packages' `engines` say. */
export const NODE_REQUIREMENT = '>= 22.12 (developed and tested on 24)';

/**
 * Whether `version` (default: this Node's) is 22.12 or newer.
 * @param {string} [version]
 * @returns {boolean}
 */
export function nodeSupported(version = process.versions.node) {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}

/**
 * Ends the process with exit code 2 and one line saying what to install when this Node is too old.
 * @param {string} tool the command's name, for the message
 * @returns {void}
 */
export function requireNode(tool) {
  if (nodeSupported()) return;
  process.stderr.write(
    `${tool} needs Node.js ${NODE_REQUIREMENT}; this is ${process.version}. ` +
      'Install Node 24 (e.g. `nvm install 24`, or `npm i -g --prefix ~/.node24 node@24` and put ~/.node24/bin first on PATH).\n',
  );
  process.exit(2);
}

/**
 * The flags this Node needs for what a bin uses, of: `typescript` (TypeScript sources of a private
 * workspace package, never under node_modules: flagged before Node 23.6) and `sqlite` (`node:sqlite`:
 * flagged before Node 22.13). Empty on a current Node.
 * @param {{ typescript?: boolean, sqlite?: boolean }} uses
 * @returns {string[]}
 */
export function missingFlags(uses) {
  const flags = [];
  if (uses.typescript && !(/** @type {{ typescript?: unknown }} */ (process.features).typescript)) {
    flags.push('--experimental-strip-types');
  }
  if (uses.sqlite && !process.getBuiltinModule?.('node:sqlite')) flags.push('--experimental-sqlite');
  return flags;
}

/**
 * Runs this same command again with `flags` (from `missingFlags`), forwarding termination signals, and
 * exits as the child did. Returns false, doing nothing, when no flag is needed.
 * @param {readonly string[]} flags
 * @returns {Promise<boolean>} true when the command runs in a child and this process will exit with it
 */
export async function reexecWith(flags) {
  if (flags.length === 0) return false;
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    [...flags, '--no-warnings=ExperimentalWarning', ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT', 'SIGHUP'])) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
  return true;
}
