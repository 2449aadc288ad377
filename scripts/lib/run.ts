import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** Runs a command with Node 24 first on PATH (so npm scripts and bins use it); returns the exit code. */
export function run(
  cmd: string,
  args: string[],
  cwd: string,
  extraEnv: Record<string, string> = {},
): number {
  const env = {
    ...process.env,
    ...extraEnv,
    PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`,
  };
  console.log(`\n\x1b[1m$ ${[cmd, ...args].join(' ')}\x1b[0m`);
  const r = spawnSync(cmd, args, { cwd, env, stdio: 'inherit' });
  return r.status ?? 1;
}
