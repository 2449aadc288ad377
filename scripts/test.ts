/**
 * `npm test`: does its own set-up and runs everything CI runs.
 * 1. system programs (nats-server, redis-server, chromium; apt-get as root when missing)
 * 2. fresh builds of both apps (browser tests use them)
 * 3. typecheck and lint
 * 4. vitest: unit, integration (real NATS/Redis/service processes), browser tests
 * Extra arguments go to vitest (e.g. `npm test -- services/chat`), which then skips steps 3.
 */
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPrograms } from './lib/system-deps.ts';
import { buildApp } from './lib/apps.ts';
import { run } from './lib/run.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);
const steps: Array<[string, number]> = [];

ensureSystemPrograms(['nats-server', 'redis-server', 'chromium']);
buildApp(root, 'widget');
buildApp(root, 'admin');

if (filters.length === 0) {
  steps.push(['typecheck', run('npm', ['run', 'typecheck'], root)]);
  steps.push(['lint', run('npm', ['run', 'lint'], root)]);
}
mkdirSync(path.join(root, '.data'), { recursive: true });
const report = path.join(root, '.data', 'vitest-report.json');
steps.push([
  'vitest',
  run(
    path.join(root, 'node_modules', '.bin', 'vitest'),
    ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...filters],
    root,
  ),
]);

const failedSteps = steps.filter(([, code]) => code !== 0).map(([name]) => name);
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  // The plain closing line CI reads.
  console.log(
    `\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`,
  );
}
if (failedSteps.length) {
  console.error(`npm test: failed steps: ${failedSteps.join(', ')}`);
  process.exit(1);
}
console.log('npm test: all steps passed');
