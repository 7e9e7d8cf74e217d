// Written in plain JS with no dependencies so it runs (and explains) on any Node version.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `faultline needs Node.js >= 22.12 (developed and tested on 24; see .nvmrc); this is ${process.version}.\n` +
      'Install Node 24, e.g. `nvm install 24` or `npm i -g --prefix ~/.node24 node@24` and put ~/.node24/bin first on PATH.',
  );
  process.exit(2);
}
