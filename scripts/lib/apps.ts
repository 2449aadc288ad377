/** Builds the SvelteKit apps (frontends/widget, frontends/admin) with Node 24 on PATH. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export function buildApp(
  root: string,
  app: 'widget' | 'admin',
  opts: { ifMissing?: boolean } = {},
): void {
  const out = path.join(root, 'frontends', app, 'build', 'index.html');
  if (opts.ifMissing && existsSync(out)) return;
  console.log(`[build] ${app} …`);
  const env = {
    ...process.env,
    PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`,
  };
  const r = spawnSync('npm', ['run', 'build', '-w', `@parley/${app}`], {
    cwd: root,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`building ${app} failed (exit ${r.status})`);
}
