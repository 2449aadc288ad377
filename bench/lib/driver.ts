/** The runner's side of the load generators: forks them, sends commands, merges their results. */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import type {
  GeneratorCommand,
  GeneratorReply,
  GeneratorStats,
  LoadCommand,
  LoadResult,
  SetupCommand,
  SetupResult,
  TargetSpec,
} from './protocol.ts';

const generatorEntry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'generator.ts');

class Generator {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  readonly proc: ChildProcess;
  readonly name: string;

  constructor(name: string) {
    this.name = name;
    this.proc = fork(generatorEntry, [], {
      execArgv: ['--no-warnings'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc.on('message', (reply: GeneratorReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(`${this.name}: ${reply.error}`));
    });
    this.proc.on('exit', (code) => {
      for (const waiter of this.pending.values())
        waiter.reject(new Error(`${this.name} exited (${code})`));
      this.pending.clear();
    });
  }

  request<T>(command: GeneratorCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, command });
    });
  }
}

export interface LoadSummary {
  sent: number;
  received: number;
  lost: number;
  duplicated: number;
  errors: Record<string, number>;
  acks: number;
  drain_ms: number;
  late_from_earlier_run: number;
  latency_ms: { p50: number; p95: number; p99: number; p999: number; max: number; mean: number };
  max_schedule_lag_ms: number;
}

export interface PoolOptions {
  target: TargetSpec;
  /** Total chats (or idle visitors) over all generator processes. */
  chats: number;
  operators: boolean;
  /** At most this many connections per generator process (file descriptor limit). */
  maxConnectionsPerProcess: number;
  heartbeatMs: number;
  concurrency: number;
  chatsPerOperator: number;
}

/**
 * Generator processes sharing the chats. Each process gets its own 127.0.0.x source address, so
 * no process runs out of ephemeral ports toward one server port.
 */
export class GeneratorPool {
  readonly generators: Generator[] = [];
  private readonly shares: number[] = [];
  private readonly opts: PoolOptions;

  constructor(opts: PoolOptions) {
    this.opts = opts;
  }

  async setup(processes?: number): Promise<SetupResult[]> {
    const perChat = this.opts.operators ? 2 : 1;
    const needed = Math.ceil((this.opts.chats * perChat) / this.opts.maxConnectionsPerProcess);
    const count = Math.max(1, processes ?? 1, needed);
    for (let i = 0; i < count; i++) {
      this.generators.push(new Generator(`generator-${i}`));
      this.shares.push(Math.floor(this.opts.chats / count) + (i < this.opts.chats % count ? 1 : 0));
    }
    return Promise.all(
      this.generators.map((g, i) =>
        g.request<SetupResult>({
          cmd: 'setup',
          target: this.opts.target,
          chats: this.shares[i] ?? 0,
          operators: this.opts.operators,
          localAddress: `127.0.0.${2 + i}`,
          heartbeatMs: this.opts.heartbeatMs,
          chatsPerOperator: this.opts.chatsPerOperator,
          concurrency: this.opts.concurrency,
        } satisfies SetupCommand),
      ),
    );
  }

  /** Sends `rate` messages per second in total for `durationMs`, split by each process's share of chats. */
  async load(
    rate: number,
    durationMs: number,
    drainMs: number,
    maxDrainMs: number,
  ): Promise<LoadSummary> {
    const results = await Promise.all(
      this.generators.map((g, i) =>
        g.request<LoadResult>({
          cmd: 'load',
          rate: (rate * (this.shares[i] ?? 0)) / this.opts.chats,
          durationMs,
          drainMs,
          maxDrainMs,
        } satisfies LoadCommand),
      ),
    );
    return mergeResults(results);
  }

  stats(): Promise<GeneratorStats[]> {
    return Promise.all(this.generators.map((g) => g.request<GeneratorStats>({ cmd: 'stats' })));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.generators.map(
        (g) =>
          new Promise<void>((resolve) => {
            if (g.proc.exitCode !== null) return resolve();
            g.proc.once('exit', () => resolve());
            g.request({ cmd: 'close' }).catch(() => undefined);
            setTimeout(() => g.proc.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
  }
}

function mergeResults(results: LoadResult[]): LoadSummary {
  const total = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const errors: Record<string, number> = {};
  let sent = 0;
  let received = 0;
  let lost = 0;
  let duplicated = 0;
  let acks = 0;
  let lag = 0;
  let drain = 0;
  let late = 0;
  for (const r of results) {
    drain = Math.max(drain, r.drain_ms);
    late += r.late_from_earlier_run;
    total.add(hdr.decodeFromCompressedBase64(r.histogram));
    sent += r.sent;
    received += r.received;
    lost += r.lost;
    duplicated += r.duplicated;
    acks += r.acks;
    lag = Math.max(lag, r.max_schedule_lag_ms);
    for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
  }
  const ms = (us: number) => Math.round(us) / 1000;
  const empty = total.totalCount === 0;
  return {
    sent,
    received,
    lost,
    duplicated,
    errors,
    acks,
    drain_ms: Math.round(drain),
    late_from_earlier_run: late,
    latency_ms: {
      p50: empty ? 0 : ms(total.getValueAtPercentile(50)),
      p95: empty ? 0 : ms(total.getValueAtPercentile(95)),
      p99: empty ? 0 : ms(total.getValueAtPercentile(99)),
      p999: empty ? 0 : ms(total.getValueAtPercentile(99.9)),
      max: empty ? 0 : ms(total.maxValue),
      mean: empty ? 0 : ms(total.mean),
    },
    max_schedule_lag_ms: Math.round(lag * 10) / 10,
  };
}
