/**
 * Makes sure the system programs the stack needs exist. On Debian/Ubuntu as root it installs
 * what is missing with apt-get; otherwise it prints exactly what to install (or to use
 * docker compose) and fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const packages: Record<string, string> = {
  'nats-server': 'nats-server',
  'redis-server': 'redis-server',
  chromium: 'chromium',
};

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function ensureSystemPrograms(programs: Array<keyof typeof packages>): void {
  const missing = programs.filter((p) => !which(p));
  if (missing.length === 0) return;
  const pkgs = missing.map((p) => packages[p]!);
  const isRoot = process.getuid?.() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (isRoot && hasApt) {
    console.log(`[setup] installing ${pkgs.join(', ')} with apt-get …`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], {
      stdio: 'inherit',
      env,
    });
    const still = programs.filter((p) => !which(p));
    if (still.length) throw new Error(`still missing after apt-get: ${still.join(', ')}`);
    return;
  }
  const how = hasApt
    ? `sudo apt-get install -y ${pkgs.join(' ')}`
    : `install ${pkgs.join(', ')} with your package manager`;
  throw new Error(
    `Missing programs: ${missing.join(', ')}.\n  Install them: ${how}\n  or run the whole stack in containers: docker compose up`,
  );
}
