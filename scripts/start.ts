/**
 * `npm start`: the whole product on this machine with the embedded defaults.
 * Installs nats-server/redis-server when missing (apt, as root), starts NATS (JetStream) and
 * Redis with their data under .data/, builds the apps when needed, starts the four services and
 * the demo host page, prints the URLs and the operator login, and stops everything on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveSecret } from '@parley/runtime';
import { ensureSystemPrograms } from './lib/system-deps.ts';
import { startDemoServer } from './lib/demo-server.ts';
import { buildApp } from './lib/apps.ts';
import { writeLocalNatsConfig } from './lib/nats-config.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const dataDir = path.resolve(root, env.DATA_DIR ?? '.data');
const host = env.PARLEY_HOST ?? '127.0.0.1';
const ports = {
  gateway: Number(env.GATEWAY_PORT ?? 8080),
  chat: Number(env.CHAT_PORT ?? 8081),
  routing: Number(env.ROUTING_PORT ?? 8082),
  notify: Number(env.NOTIFY_PORT ?? 8083),
  demo: Number(env.DEMO_PORT ?? 8090),
  nats: Number(env.NATS_PORT ?? 4222),
  redis: Number(env.REDIS_PORT ?? 6379),
};
const colors = { nats: 36, redis: 31, chat: 32, routing: 33, notify: 35, gateway: 34 } as const;
const children: Array<{ name: string; proc: ChildProcess }> = [];
let stopping = false;

function prefix(name: keyof typeof colors) {
  return `\x1b[${colors[name]}m${name.padEnd(7)}\x1b[0m|`;
}

/** Pino JSON → one readable line: `time LEVEL msg key=value…`. */
function formatLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const levels: Record<number, string> = {
      10: 'TRACE',
      20: 'DEBUG',
      30: 'INFO',
      40: 'WARN',
      50: 'ERROR',
      60: 'FATAL',
    };
    const { time, level, msg, service: _s, name: _n, pid: _p, hostname: _h, ...rest } = o;
    const t = typeof time === 'string' ? time.slice(11, 19) : '';
    const extra = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    return `${t} ${(levels[level as number] ?? String(level)).padEnd(5)} ${String(msg ?? '')} ${extra}`.trimEnd();
  } catch {
    return line;
  }
}

function pipe(name: keyof typeof colors, proc: ChildProcess) {
  for (const stream of [proc.stdout, proc.stderr]) {
    let buf = '';
    stream?.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) console.log(`${prefix(name)} ${formatLine(l)}`);
    });
  }
}

function launch(
  name: keyof typeof colors,
  cmd: string,
  args: string[],
  extraEnv: Record<string, string> = {},
) {
  const proc = spawn(cmd, args, {
    cwd: root,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C in the terminal reaches only this script, which then stops
    // the services before Redis and NATS (otherwise all get SIGINT at once and the services
    // shut down against infrastructure that is already gone).
    detached: true,
  });
  pipe(name, proc);
  proc.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${prefix(name)} exited (${signal ?? code}); stopping everything`);
      void stopAll(1);
    }
  });
  children.push({ name, proc });
  return proc;
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitReady(name: string, url: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not become ready at ${url}`);
}

async function waitPort(port: number, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portInUse(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listening on ${port}`);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function buildIfStale(app: 'widget' | 'admin') {
  const index = path.join(root, 'frontends', app, 'build', 'index.html');
  const stale =
    !existsSync(index) ||
    process.argv.includes('--rebuild') ||
    newestMtime(path.join(root, 'frontends', app, 'src')) > statSync(index).mtimeMs;
  if (stale) buildApp(root, app);
}

async function stopAll(code: number) {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping …');
  // Services first (they drain NATS), then the infrastructure.
  const order = ['gateway', 'notify', 'routing', 'chat', 'redis', 'nats'];
  for (const name of order) {
    for (const c of children.filter((x) => x.name === name)) {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => c.proc.kill('SIGKILL'), 25_000);
        c.proc.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        c.proc.kill('SIGTERM');
      });
    }
  }
  process.exit(code);
}

async function main() {
  ensureSystemPrograms(['nats-server', 'redis-server']);
  for (const [name, port] of Object.entries(ports)) {
    if (await portInUse(port)) {
      throw new Error(
        `port ${port} (${name}) is already in use: stop what uses it or set ${name.toUpperCase()}_PORT`,
      );
    }
  }
  mkdirSync(path.join(dataDir, 'nats'), { recursive: true });
  mkdirSync(path.join(dataDir, 'redis'), { recursive: true });
  const devCfg = { NODE_ENV: 'development' as const, DATA_DIR: dataDir };
  const secrets = {
    AUTH_TOKEN_SECRET: resolveSecret(env.AUTH_TOKEN_SECRET, 'AUTH_TOKEN_SECRET', devCfg),
    IDENTITY_HMAC_SECRET: resolveSecret(env.IDENTITY_HMAC_SECRET, 'IDENTITY_HMAC_SECRET', devCfg),
    UNSUBSCRIBE_SECRET: resolveSecret(env.UNSUBSCRIBE_SECRET, 'UNSUBSCRIBE_SECRET', devCfg),
  };
  const adminEmail = env.ADMIN_EMAIL ?? 'admin@example.com';
  const adminPasswordGenerated = !env.ADMIN_PASSWORD;
  const adminPassword = resolveSecret(env.ADMIN_PASSWORD, 'ADMIN_PASSWORD', devCfg);

  // Each service its own NATS user, as in production (passwords generated on first run).
  const nats = writeLocalNatsConfig(dataDir);

  buildIfStale('widget');
  buildIfStale('admin');

  launch(
    'nats',
    'nats-server',
    [
      '-c',
      nats.file,
      '-a',
      '127.0.0.1',
      '-p',
      String(ports.nats),
      '-js',
      '-sd',
      path.join(dataDir, 'nats'),
    ],
    nats.serverEnv,
  );
  launch('redis', 'redis-server', [
    '--port',
    String(ports.redis),
    '--bind',
    '127.0.0.1',
    '--dir',
    path.join(dataDir, 'redis'),
    '--appendonly',
    'yes',
    '--save',
    '',
    '--loglevel',
    'warning',
  ]);
  await Promise.all([waitPort(ports.nats), waitPort(ports.redis)]);

  const publicUrl = env.PUBLIC_URL ?? `http://localhost:${ports.gateway}`;
  const demoOrigins = [`http://localhost:${ports.demo}`, `http://127.0.0.1:${ports.demo}`];
  const common: Record<string, string> = {
    NODE_ENV: env.NODE_ENV ?? 'development',
    NATS_URL: `nats://127.0.0.1:${ports.nats}`,
    REDIS_URL: `redis://127.0.0.1:${ports.redis}`,
    DATA_DIR: dataDir,
    PUBLIC_URL: publicUrl,
    HTTP_HOST: host,
    CHAT_INTERNAL_URL: `http://127.0.0.1:${ports.chat}`,
    ALLOWED_ORIGINS:
      env.ALLOWED_ORIGINS ??
      [
        publicUrl,
        `http://127.0.0.1:${ports.gateway}`,
        `http://localhost:${ports.gateway}`,
        ...demoOrigins,
      ].join(','),
    ADMIN_EMAIL: adminEmail,
    ADMIN_PASSWORD: adminPassword,
    ...secrets,
  };
  const node = process.execPath;
  const svc = (name: 'chat' | 'routing' | 'notify' | 'gateway') =>
    launch(name, node, ['--no-warnings', path.join('services', name, 'src', 'index.ts')], {
      ...common,
      ...nats.serviceEnv[name],
      HTTP_PORT: String(ports[name]),
    });
  svc('chat');
  await waitReady('chat', `http://127.0.0.1:${ports.chat}/readyz`);
  svc('routing');
  svc('notify');
  svc('gateway');
  await Promise.all(
    (['routing', 'notify', 'gateway'] as const).map((n) =>
      waitReady(n, `http://127.0.0.1:${ports[n]}/readyz`),
    ),
  );
  const demo = await startDemoServer({
    dir: path.join(root, 'frontends', 'widget', 'demo'),
    gatewayUrl: publicUrl,
    port: ports.demo,
    host: host === '127.0.0.1' ? '127.0.0.1' : host,
  });

  console.log(`
\x1b[1mParley is running.\x1b[0m
  Demo customer site (widget):  http://localhost:${ports.demo}/   (${demo.url})
  Operator console:             ${publicUrl}/admin/
  Widget alone:                 ${publicUrl}/widget/
  Gateway API / WebSocket:      ${publicUrl}/api  ·  ${publicUrl.replace(/^http/, 'ws')}/ws
  Health:                       ${publicUrl}/readyz  ·  metrics ${publicUrl}/metrics
  Operator login:               ${adminEmail} / ${adminPassword}${adminPasswordGenerated ? '   (generated; kept in .data/secrets.json)' : ''}
  Data:                         ${dataDir}
Press Ctrl-C to stop.
`);
}

// Never leave children behind, whatever ends this script.
process.on('exit', () => {
  for (const c of children)
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
});
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
main().catch((err: unknown) => {
  console.error(
    `\x1b[31mnpm start failed:\x1b[0m ${err instanceof Error ? err.message : String(err)}`,
  );
  void stopAll(1);
});
