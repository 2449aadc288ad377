/**
 * Each service image's production dependency tree, made the way deploy/docker/Dockerfile makes
 * it (its COPY and `npm ci` steps, read from the Dockerfile and replayed in a temporary folder
 * with no node_modules above it), then the service started from that folder in production mode
 * against real NATS (with its own NATS user) and Redis until it answers /readyz. A dependency a
 * workspace imports without declaring fails here as it would in the image.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  startNatsServer,
  startRedisServer,
  waitFor,
  type ManagedProcess,
} from '@parley/runtime/testing';
import { buildApp } from '../../scripts/lib/apps.ts';
import {
  generateNatsPasswords,
  natsServerEnv,
  renderNatsAuthorization,
} from '../../scripts/lib/nats-config.ts';
import { loadDockerfile, parleyServices, repoRoot, type DockerStage } from './manifests.ts';

const dockerfile = loadDockerfile();
const stage = (name: string): DockerStage => {
  const s = dockerfile.stages.find((x) => x.name === name);
  if (!s) throw new Error(`Dockerfile has no stage ${name}`);
  return s;
};

/** Replays a stage's `COPY src… dest` from the build context (COPY --from is another stage). */
function replayCopies(s: DockerStage, into: string, vars: Record<string, string>) {
  for (const ins of s.instructions.filter((i) => i.keyword === 'COPY')) {
    if (ins.args.startsWith('--from=')) continue;
    const parts = ins.args.replace(/\$\{(\w+)\}/g, (_, v: string) => vars[v] ?? '').split(/\s+/);
    const dest = parts.pop()!;
    for (const src of parts) {
      const target = dest.endsWith('/')
        ? path.join(into, dest, src.endsWith('/') ? '' : path.basename(src))
        : path.join(into, dest);
      mkdirSync(path.dirname(target), { recursive: true });
      cpSync(path.join(repoRoot, src), target, {
        recursive: true,
        filter: (p) => !p.includes(`${path.sep}node_modules`) && !p.includes(`${path.sep}.data`),
      });
    }
  }
}

/** The service-deps stage's `npm ci …` command line, for one service. */
function npmCiArgs(service: string): string[] {
  const run = stage('service-deps')
    .instructions.filter((i) => i.keyword === 'RUN')
    .map((i) => i.args)
    .find((a) => a.includes('npm ci'));
  if (!run) throw new Error('the service-deps stage runs no npm ci');
  const command = run
    .slice(run.indexOf('npm ci'))
    .replace(/\$\{SERVICE\}/g, service)
    .trim()
    .split(/\s+/);
  // From the local npm cache where it has the packages: the same versions, from the lockfile.
  return [...command.slice(1), '--prefer-offline'];
}

let nats: ManagedProcess;
let redis: ManagedProcess;
const passwords = generateNatsPasswords();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'parley-image-'));
const running: ChildProcess[] = [];

beforeAll(async () => {
  nats = await startNatsServer({
    config: renderNatsAuthorization(),
    env: natsServerEnv(passwords),
  });
  redis = await startRedisServer();
  buildApp(repoRoot, 'widget', { ifMissing: true });
  buildApp(repoRoot, 'admin', { ifMissing: true });
}, 300_000);

afterAll(async () => {
  for (const p of running) p.kill('SIGKILL');
  await nats?.stop();
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const secret = () => randomBytes(32).toString('base64url');

describe("each service from its image's production dependency tree", () => {
  it.each(parleyServices)(
    '%s installs with the Dockerfile’s npm ci alone and answers /readyz in production mode',
    async (service) => {
      const app = path.join(tmp, service);
      mkdirSync(app, { recursive: true });
      replayCopies(stage('manifests'), app, { SERVICE: service });
      execFileSync('npm', npmCiArgs(service), { cwd: app, stdio: 'pipe', timeout: 240_000 });
      replayCopies(stage('service'), app, { SERVICE: service });
      expect(existsSync(path.join(app, 'node_modules', '@parley', 'runtime'))).toBe(true);
      // Nothing of the development tree: no test runner, no type checker.
      expect(existsSync(path.join(app, 'node_modules', 'vitest'))).toBe(false);
      expect(existsSync(path.join(app, 'node_modules', 'typescript'))).toBe(false);

      const port = await freePort();
      const dataDir = path.join(app, 'data');
      mkdirSync(dataDir);
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        HTTP_PORT: String(port),
        HTTP_HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        NATS_URL: nats.url,
        NATS_USER: service,
        NATS_PASSWORD: passwords[service],
        REDIS_URL: redis.url,
        PUBLIC_URL: 'https://chat.example.com',
        CHAT_INTERNAL_URL: 'http://127.0.0.1:1',
        AUTH_TOKEN_SECRET: secret(),
        IDENTITY_HMAC_SECRET: secret(),
        UNSUBSCRIBE_SECRET: secret(),
        WIDGET_DIST: path.join(repoRoot, 'frontends/widget/build'),
        ADMIN_DIST: path.join(repoRoot, 'frontends/admin/build'),
      };
      const proc = spawn(process.execPath, ['--no-warnings=ExperimentalWarning', 'src/index.ts'], {
        cwd: path.join(app, 'services', service),
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      running.push(proc);
      let logs = '';
      proc.stdout.on('data', (d: Buffer) => (logs += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (logs += d.toString()));
      await waitFor(
        async () => {
          if (proc.exitCode !== null) throw new Error(`${service} exited:\n${logs}`);
          const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
          return res?.ok;
        },
        { timeoutMs: 30_000, what: `${service} /readyz from the image tree` },
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${logs}`);
      });
      proc.kill('SIGTERM');
    },
    300_000,
  );
});
