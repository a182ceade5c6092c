#!/usr/bin/env node
// Entry point of the `vipps-psp` command. Plain JavaScript, so that it runs on any Node.js and can
// say which version is needed instead of failing on the first modern line.
//
// Which code it runs:
// - In a clone of the repository, src/ is here: the TypeScript sources, run by Node's type stripping,
//   exactly what `npm start` and the tests run. A dist/ left by an earlier `npm run build` is never
//   used there, so an edit to src/ is never hidden by a stale build.
// - In the installed package, src/ is not shipped (Node refuses type stripping under node_modules):
//   it runs the JavaScript that `npm run build` compiled into dist/, which `npm pack` builds first.
import { existsSync } from 'node:fs';

const MINIMUM = [22, 19];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  process.stderr.write(`vipps-psp needs Node.js ${MINIMUM.join('.')} or later; this is ${process.version} (${process.execPath}).\n`);
  process.exit(1);
}

const sources = new URL('../src/cli/main.ts', import.meta.url);
const entry = existsSync(sources) ? sources : new URL('../dist/cli/main.js', import.meta.url);
const { main } = await import(entry.href);

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
