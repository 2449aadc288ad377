import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const runtimeEntry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'index.ts');
const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-run-service-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a tiny service entry point the way every service's index.ts does. */
function runEntry(body: string) {
  const file = path.join(dir, `entry-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(
    file,
    `import { baseConfig, loadConfig, runService } from ${JSON.stringify(runtimeEntry)};\n${body}\n`,
  );
  return spawnSync(process.execPath, ['--no-warnings', file], {
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('runService', () => {
  it('prints every bad config key once and exits 1 without starting', () => {
    const out = runEntry(`
      runService({
        name: 'demo',
        readConfig: () => loadConfig(baseConfig, { LOG_LEVEL: 'loud', SHUTDOWN_TIMEOUT_MS: '5' }),
        start: async () => { console.log('started'); return { stop: async () => {} }; },
      });`);
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('Invalid configuration');
    expect(out.stderr).toContain('LOG_LEVEL');
    expect(out.stderr).toContain('SHUTDOWN_TIMEOUT_MS');
    expect(out.stdout).not.toContain('started');
  });

  it('starts with the parsed config and stops in order on SIGTERM', () => {
    const out = runEntry(`
      runService({
        name: 'demo',
        readConfig: () => loadConfig(baseConfig, { LOG_LEVEL: 'silent', HTTP_PORT: '1234' }),
        start: async (config) => {
          console.log('port', config.HTTP_PORT);
          // Stands for the servers a real service keeps open.
          const work = setInterval(() => {}, 1000);
          setImmediate(() => process.kill(process.pid, 'SIGTERM'));
          return {
            stop: async () => {
              clearInterval(work);
              console.log('stopped cleanly');
            },
          };
        },
      });`);
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('port 1234');
    expect(out.stdout).toContain('stopped cleanly');
  });
});
