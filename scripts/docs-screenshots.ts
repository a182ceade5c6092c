// npm run docs:screenshots — renews the manual's screenshots (docs/landing-page.png,
// docs/app-payment-screen.png, docs/console-payment-timeline.png and docs/console-readiness.png) by
// running the browser tests that take them ("the manual's screenshots") with UPDATE_DOCS_SCREENSHOTS=1,
// on the Node that runs this script (through npm: the project's Node 24). Fails, instead of skipping
// as the test suite does, when Chromium is not installed.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { CHROMIUM, DOCS_DIR, skipWithoutChromium } from '../test/support/browser.ts';

if (skipWithoutChromium) {
  process.stderr.write(`Cannot renew the screenshots: ${CHROMIUM} is missing (apt-get install -y chromium).\n`);
  process.exit(1);
}
const root = path.resolve(import.meta.dirname, '..');
const files = ['landing-page.png', 'app-payment-screen.png', 'console-payment-timeline.png', 'console-readiness.png'].map((f) => path.join(DOCS_DIR, f));
const before = files.map((f) => statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0);
const run = spawnSync(process.execPath, ['--test', '--test-name-pattern=manual\'s screenshots', 'test/browser/user-flow.test.ts', 'test/browser/console.test.ts'], {
  cwd: root, stdio: 'inherit', env: { ...process.env, UPDATE_DOCS_SCREENSHOTS: '1' },
});
if (run.status !== 0) process.exit(run.status ?? 1);
const stale = files.filter((f, i) => (statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0) <= before[i]);
if (stale.length > 0) {
  process.stderr.write(`Not renewed: ${stale.map((f) => path.relative(root, f)).join(', ')}\n`);
  process.exit(1);
}
process.stdout.write(`Renewed ${files.map((f) => path.relative(root, f)).join(', ')}\n`);
