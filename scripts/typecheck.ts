/** `npm run typecheck`: tsc over services, contracts, packages (runtime, chat-client), tests, scripts, bench; svelte-check over both apps. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './lib/run.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
let failed = 0;
failed += run(bin('tsc'), ['-p', 'tsconfig.json'], root) === 0 ? 0 : 1;
for (const app of ['widget', 'admin']) {
  failed += run('npm', ['run', 'check', '-w', `@parley/${app}`], root) === 0 ? 0 : 1;
}
if (failed) {
  console.error(`typecheck: ${failed} step(s) failed`);
  process.exit(1);
}
console.log('typecheck: clean');
