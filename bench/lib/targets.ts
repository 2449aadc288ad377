/**
 * The systems under test: the bare relay (bench/baseline/relay.ts) and Parley itself (the whole
 * stack from @parley/runtime/testing). Each comes back with its components (name + pid, and the
 * probe file for Node processes) so the runner can watch their CPU, memory and event loop.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type ServiceName } from '@parley/runtime/testing';
import type { Component } from './procstat.ts';
import type { TargetSpec } from './protocol.ts';

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const probeEntry = path.join(benchDir, 'lib', 'probe.ts');

export interface RunningTarget {
  kind: 'relay' | 'parley';
  spec: TargetSpec;
  components: Component[];
  /** Components that hold the WebSocket connections (for heap per connection). */
  connectionHolders: string[];
  /** The tail of the services' own logs, for a failure report. */
  logs(): string;
  stop(): Promise<void>;
}

export interface TargetOptions {
  /** Where probe files (and CPU profiles) go. */
  workDir: string;
  /** Write a V8 CPU profile of every Node component into workDir/profiles on exit. */
  cpuProfile: boolean;
  gateways: number;
}

function nodeFlags(opts: TargetOptions): string[] {
  const flags = [`--import=${probeEntry}`];
  if (opts.cpuProfile)
    flags.push('--cpu-prof', `--cpu-prof-dir=${path.join(opts.workDir, 'profiles')}`);
  return flags;
}

export function probeFileFor(workDir: string, pid: number): string {
  return path.join(workDir, 'probes', `${pid}.json`);
}

export async function startRelay(opts: TargetOptions): Promise<RunningTarget> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    ['--no-warnings', ...nodeFlags(opts), path.join(benchDir, 'baseline', 'relay.ts')],
    {
      env: {
        ...process.env,
        HTTP_PORT: String(port),
        BENCH_PROBE_DIR: path.join(opts.workDir, 'probes'),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`relay exited (${code}) before listening`)));
  });
  const pid = proc.pid ?? 0;
  return {
    kind: 'relay',
    spec: { kind: 'relay', wsUrls: [`ws://127.0.0.1:${port}`] },
    components: [{ name: 'relay', pid, probeFile: probeFileFor(opts.workDir, pid) }],
    connectionHolders: ['relay'],
    logs: () => '',
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

function serviceExists(name: ServiceName): boolean {
  try {
    readFileSync(path.join(benchDir, '..', 'services', name, 'src', 'index.ts'));
    return true;
  } catch {
    return false;
  }
}

/** Whether the message path exists yet (gateway, chat and routing); notify is started when present. */
export function parleyAvailable(): boolean {
  return (['gateway', 'chat', 'routing'] as const).every(serviceExists);
}

/** Limits that exist against abuse from one address; all bench load comes from 127.0.0.x. */
const benchServiceEnv = {
  LOG_LEVEL: 'warn',
  WS_MAX_CONNECTIONS_PER_IP: '1000000',
  WS_MAX_MESSAGES_PER_SECOND_PER_IP: '1000000',
  WS_MAX_MESSAGES_PER_SECOND: '1000',
  HTTP_MAX_REQUESTS_PER_IP: '100000000',
  VISITOR_SESSIONS_PER_IP: '100000000',
  WS_UPGRADES_PER_IP: '100000000',
};

export async function startParley(opts: TargetOptions): Promise<RunningTarget> {
  const { startStack } = await import('@parley/runtime/testing');
  const stack = await startStack({
    gateways: opts.gateways,
    buildApps: false,
    services: (['chat', 'routing', 'notify', 'gateway'] as const).filter(serviceExists),
    env: {
      ...benchServiceEnv,
      NODE_OPTIONS: nodeFlags(opts).join(' '),
      BENCH_PROBE_DIR: path.join(opts.workDir, 'probes'),
    },
  });
  const components: Component[] = [];
  for (const [name, list] of Object.entries(stack.services)) {
    list.forEach((p, i) => {
      const pid = p.proc.pid ?? 0;
      components.push({
        name: list.length > 1 ? `${name}-${i}` : name,
        pid,
        probeFile: probeFileFor(opts.workDir, pid),
      });
    });
  }
  for (const [name, url] of [
    ['nats-server', stack.natsUrl],
    ['redis-server', stack.redisUrl],
  ] as const) {
    const pid = pidListeningOn(Number(new URL(url).port));
    if (pid) components.push({ name, pid });
  }
  return {
    kind: 'parley',
    spec: {
      kind: 'parley',
      httpUrl: stack.gatewayUrl,
      wsUrls: stack.gatewayUrls.map((u) => u.replace(/^http/, 'ws')),
      operatorEmail: stack.adminEmail,
      operatorPassword: stack.adminPassword,
    },
    components,
    connectionHolders: components.filter((c) => c.name.startsWith('gateway')).map((c) => c.name),
    logs: () =>
      Object.entries(stack.services)
        .flatMap(([name, list]) =>
          list.map((p) => {
            const text =
              'logs' in p && typeof p.logs === 'function' ? (p.logs as () => string)() : '';
            const exited = p.proc.exitCode !== null ? ` (exited ${p.proc.exitCode})` : '';
            return text
              ? `--- ${name}${exited}\n${text.slice(-2000)}`
              : exited
                ? `--- ${name}${exited}`
                : '';
          }),
        )
        .filter(Boolean)
        .join('\n'),
    stop: () => stack.stop(),
  };
}

/** The process listening on a local TCP port: its socket inode in /proc/net/tcp, then whose fd it is. */
export function pidListeningOn(port: number): number | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // st 0A = LISTEN
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A' && cols[9]) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = readlinkSync(`/proc/${entry}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m?.[1] && inodes.has(m[1])) return Number(entry);
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return null;
}

export function makeWorkDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
