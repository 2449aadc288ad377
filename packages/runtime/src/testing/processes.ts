/**
 * Test infrastructure shared by every suite: real nats-server and redis-server processes on
 * free ports (as nats.js does with its launcher), service processes, and event-based waits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
}

export interface ManagedProcess {
  url: string;
  port: number;
  dir: string;
  proc: ChildProcess;
  stop(): Promise<void>;
  /** Kill -9 (crash simulation). */
  kill(): Promise<void>;
  /** What the process wrote to stderr so far (NATS: its log, e.g. permission violations). */
  logs?(): string;
}

function stopProcess(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000) {
  return new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    proc.kill(signal);
  });
}

/**
 * Starts a server binary on a port and data folder of its own, and resolves once the port
 * accepts connections; the folder is removed on stop unless the caller gave it.
 */
async function startServer(spec: {
  program: 'nats-server' | 'redis-server';
  scheme: 'nats' | 'redis';
  port: number;
  dir: string;
  ownDir: boolean;
  args: string[];
  env?: Record<string, string>;
}): Promise<ManagedProcess> {
  const proc = spawn(spec.program, spec.args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...spec.env },
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.once('error', (e) => (stderr += String(e)));
  try {
    await waitForPort(spec.port);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${spec.program} did not start (is it installed?): ${stderr || String(e)}`, {
      cause: e,
    });
  }
  return {
    url: `${spec.scheme}://127.0.0.1:${spec.port}`,
    port: spec.port,
    dir: spec.dir,
    proc,
    stop: async () => {
      await stopProcess(proc);
      if (spec.ownDir) rmSync(spec.dir, { recursive: true, force: true });
    },
    kill: () => stopProcess(proc, 'SIGKILL'),
    logs: () => stderr,
  };
}

export async function startNatsServer(
  opts: {
    port?: number;
    dir?: string;
    /** nats.conf text (e.g. the per-service users); command-line flags override its port. */
    config?: string;
    /** Server environment, e.g. the NATS_PASSWORD_<SERVICE> the config refers to. */
    env?: Record<string, string>;
  } = {},
): Promise<ManagedProcess> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'parley-nats-'));
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir];
  if (opts.config !== undefined) {
    const file = path.join(dir, 'nats.conf');
    writeFileSync(file, opts.config);
    args.push('-c', file);
  }
  return startServer({
    program: 'nats-server',
    scheme: 'nats',
    port,
    dir,
    ownDir: !opts.dir,
    args,
    ...(opts.env ? { env: opts.env } : {}),
  });
}

export async function startRedisServer(
  opts: {
    port?: number;
    dir?: string;
    appendonly?: boolean;
    /** 'always' makes every acknowledged write survive a kill -9 (restart tests). */
    appendfsync?: 'always' | 'everysec';
  } = {},
): Promise<ManagedProcess> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'parley-redis-'));
  return startServer({
    program: 'redis-server',
    scheme: 'redis',
    port,
    dir,
    ownDir: !opts.dir,
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      opts.appendonly === false ? 'no' : 'yes',
      '--appendfsync',
      opts.appendfsync ?? 'everysec',
    ],
  });
}

/**
 * Starts one service (`services/<name>/src/index.ts`) as its own process with the given env,
 * and resolves once its /readyz answers 200.
 */
export async function startService(
  name: 'gateway' | 'chat' | 'routing' | 'notify',
  env: Record<string, string>,
  opts: { port?: number; readyTimeoutMs?: number; quiet?: boolean } = {},
): Promise<ManagedProcess & { logs: () => string }> {
  const port = opts.port ?? (await freePort());
  const entry = path.join(repoRoot, 'services', name, 'src', 'index.ts');
  const proc = spawn(process.execPath, ['--no-warnings', entry], {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env, HTTP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  const onData = (d: Buffer) => {
    logs += d.toString();
    if (logs.length > 200_000) logs = logs.slice(-100_000);
    if (!opts.quiet && process.env.PARLEY_TEST_LOGS) process.stderr.write(`[${name}:${port}] ${d}`);
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}:\n${logs}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${name} not ready in time:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir: repoRoot,
    proc,
    logs: () => logs,
    stop: () => stopProcess(proc),
    kill: () => stopProcess(proc, 'SIGKILL'),
  };
}

/** Polls a condition until it holds (for state visible only by asking); prefer events when possible. */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${opts.what ?? 'condition'}${lastErr ? `: ${String(lastErr)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}
