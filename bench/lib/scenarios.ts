/**
 * The three scenarios (steady, capacity, idle) run against each target (the bare relay, then
 * Parley) with the same generator and the same numbers, and the JSON they produce.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GeneratorPool, type LoadSummary } from './driver.ts';
import { summariseProfiles, type ProfileSummary } from './cpuprofile.ts';
import { ProcessSampler, round, type ProcessUsage } from './procstat.ts';
import type { ProbeSample } from './probe.ts';
import {
  makeWorkDir,
  parleyAvailable,
  startParley,
  startRelay,
  type RunningTarget,
} from './targets.ts';

export type TargetKind = 'relay' | 'parley';
export type ScenarioName = 'steady' | 'capacity' | 'idle';

export interface BenchOptions {
  targets: TargetKind[];
  scenarios: ScenarioName[];
  /** steady */
  chats: number;
  rate: number;
  durationS: number;
  /** Missing messages count as lost once nothing has arrived for this long after the last send. */
  drainS: number;
  /** Hard cap on waiting for the backlog after the last send. */
  maxDrainS: number;
  /** capacity: rate ladder start × factor per step, until p99 > limit or loss/errors */
  capacityStartRate: number;
  capacityFactor: number;
  capacityStepS: number;
  capacityMaxSteps: number;
  /** Repeat a step once when only its p99 missed, before stopping the ladder. */
  capacityRetry: boolean;
  p99LimitMs: number;
  /** idle */
  idleConnections: number;
  idleHoldS: number;
  heartbeatMs: number;
  gateways: number;
  maxConnectionsPerProcess: number;
  /** Minimum generator processes for message scenarios. */
  generators: number;
  concurrency: number;
  /** Parley: bench operators go online and take up to this many chats each; 0 leaves chats queued. */
  chatsPerOperator: number;
  cpuProfile: boolean;
  log: (line: string) => void;
}

export interface ProbeSummary {
  name: string;
  el_p99_ms_max: number;
  el_p99_ms_median: number;
  elu_mean: number;
  heap_used_mb: number;
}

export interface SteadyResult {
  chats: number;
  rate: number;
  duration_s: number;
  connections: number;
  setup_s: number;
  /** Setup HTTP requests retried after a dropped keep-alive socket. */
  setup_retries: number;
  /** Parley: chats routing assigned to an online bench operator (the rest wait in the queue). */
  assigned_chats: number;
  load: LoadSummary;
  achieved_rate: number;
  processes: ProcessUsage[];
  probes: ProbeSummary[];
}

export interface CapacityStep {
  rate: number;
  load: LoadSummary;
  achieved_rate: number;
  held: boolean;
  processes: ProcessUsage[];
}

export interface CapacityResult {
  chats: number;
  p99_limit_ms: number;
  held_rate: number;
  /** Why the ladder stopped. */
  stopped_by: string;
  steps: CapacityStep[];
}

export interface IdleResult {
  target_connections: number;
  connections: number;
  /** Set when the target was lowered to fit the open-file limit of one process. */
  note?: string;
  ramp_s: number;
  ramp_retries: number;
  hold_s: number;
  holders: Array<{
    name: string;
    heap_per_connection_kb: number;
    rss_per_connection_kb: number;
    el_p99_ms: number;
    cpu_percent: number;
    rss_mb: number;
  }>;
  processes: ProcessUsage[];
  probes: ProbeSummary[];
}

export interface TargetResult {
  components: Array<{ name: string; pid: number }>;
  steady?: SteadyResult;
  capacity?: CapacityResult;
  idle?: IdleResult;
  error?: string;
  profiles?: Array<ProfileSummary & { name: string }>;
}

export interface BenchReport {
  started_at: string;
  finished_at: string;
  commit: string;
  machine: {
    cores: number;
    cpu_model: string;
    memory_mb: number;
    node: string;
    open_files_limit: number;
    /** 1/5/15-minute load averages at start and end: other work on the machine skews the numbers. */
    load_average_start: number[];
    load_average_end: number[];
  };
  options: Omit<BenchOptions, 'log'>;
  results: Partial<Record<TargetKind, TargetResult>>;
  skipped: Partial<Record<TargetKind, string>>;
}

export function openFilesLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const m = /Max open files\s+(\d+)/.exec(limits);
  return m ? Number(m[1]) : 1024;
}

function gitCommit(): string {
  try {
    const cwd = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd })
      .toString()
      .trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

function readProbe(file: string | undefined): ProbeSample[] {
  if (!file) return [];
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { samples: ProbeSample[] }).samples;
  } catch {
    return [];
  }
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function summariseProbes(target: RunningTarget, from: number, to: number): ProbeSummary[] {
  const out: ProbeSummary[] = [];
  for (const c of target.components) {
    if (!c.probeFile) continue;
    const window = readProbe(c.probeFile).filter((s) => s.t >= from && s.t <= to + 1000);
    if (window.length === 0) continue;
    out.push({
      name: c.name,
      el_p99_ms_max: round(Math.max(...window.map((s) => s.el_p99_ms))),
      el_p99_ms_median: round(median(window.map((s) => s.el_p99_ms))),
      elu_mean: round(window.reduce((a, s) => a + s.elu, 0) / window.length, 3),
      heap_used_mb: round((window.at(-1)?.heap_used ?? 0) / 2 ** 20, 1),
    });
  }
  return out;
}

async function probeSampleAfter(
  file: string | undefined,
  after: number,
): Promise<ProbeSample | undefined> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const sample = readProbe(file).find((s) => s.t > after);
    if (sample) return sample;
    await sleep(200);
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withSampler<T>(
  target: RunningTarget,
  pool: GeneratorPool | null,
  fn: (sampler: ProcessSampler) => Promise<T>,
): Promise<T> {
  const sampler = new ProcessSampler();
  for (const c of target.components) sampler.add(c);
  pool?.generators.forEach((g) => sampler.add({ name: g.name, pid: g.proc.pid ?? 0 }));
  sampler.start(500);
  try {
    return await fn(sampler);
  } finally {
    sampler.stop();
  }
}

async function measureLoad(
  target: RunningTarget,
  pool: GeneratorPool,
  rate: number,
  durationS: number,
  drainS: number,
  maxDrainS: number,
): Promise<{
  load: LoadSummary;
  processes: ProcessUsage[];
  probes: ProbeSummary[];
  achieved: number;
}> {
  return withSampler(target, pool, async (sampler) => {
    const from = Date.now();
    const load = await pool.load(rate, durationS * 1000, drainS * 1000, maxDrainS * 1000);
    const to = from + durationS * 1000;
    sampler.sampleAll();
    return {
      load,
      processes: sampler.usage(from, to),
      probes: summariseProbes(target, from, to),
      // Throughput over the whole time it took to deliver the step, backlog included.
      achieved: round(load.received / (durationS + load.drain_ms / 1000), 1),
    };
  });
}

function clean(load: LoadSummary): boolean {
  return load.lost === 0 && load.duplicated === 0 && Object.keys(load.errors).length === 0;
}

async function runMessageScenarios(
  target: RunningTarget,
  opts: BenchOptions,
  result: TargetResult,
) {
  const wantSteady = opts.scenarios.includes('steady');
  const wantCapacity = opts.scenarios.includes('capacity');
  if (!wantSteady && !wantCapacity) return;
  const pool = new GeneratorPool({
    target: target.spec,
    chats: opts.chats,
    operators: true,
    maxConnectionsPerProcess: opts.maxConnectionsPerProcess,
    heartbeatMs: opts.heartbeatMs,
    concurrency: opts.concurrency,
    chatsPerOperator: opts.chatsPerOperator,
  });
  try {
    const setupStarted = Date.now();
    const setups = await pool.setup(opts.generators);
    const connections = setups.reduce((a, s) => a + s.connections, 0);
    const setupS = round((Date.now() - setupStarted) / 1000, 1);
    opts.log(
      `  ${target.kind}: ${opts.chats} chats open (${connections} connections) in ${setupS} s`,
    );
    if (wantSteady) {
      opts.log(`  ${target.kind} steady: ${opts.rate} msg/s for ${opts.durationS} s`);
      const m = await measureLoad(
        target,
        pool,
        opts.rate,
        opts.durationS,
        opts.drainS,
        opts.maxDrainS,
      );
      result.steady = {
        chats: opts.chats,
        rate: opts.rate,
        duration_s: opts.durationS,
        connections,
        setup_s: setupS,
        setup_retries: setups.reduce((a, s) => a + s.retries, 0),
        assigned_chats: setups.reduce((a, s) => a + s.assigned, 0),
        load: m.load,
        achieved_rate: m.achieved,
        processes: m.processes,
        probes: m.probes,
      };
      opts.log(
        `    p50 ${m.load.latency_ms.p50} ms, p99 ${m.load.latency_ms.p99} ms, lost ${m.load.lost}, dup ${m.load.duplicated}`,
      );
    }
    if (wantCapacity) {
      const steps: CapacityStep[] = [];
      let rate = opts.capacityStartRate;
      let held = 0;
      let stoppedBy = `reached ${opts.capacityMaxSteps} steps`;
      for (let i = 0; i < opts.capacityMaxSteps; i++) {
        const m = await measureLoad(
          target,
          pool,
          rate,
          opts.capacityStepS,
          opts.drainS,
          opts.maxDrainS,
        );
        const ok = clean(m.load) && m.load.latency_ms.p99 <= opts.p99LimitMs;
        steps.push({
          rate,
          load: m.load,
          achieved_rate: m.achieved,
          held: ok,
          processes: m.processes,
        });
        opts.log(
          `  ${target.kind} capacity ${rate} msg/s: p99 ${m.load.latency_ms.p99} ms, lost ${m.load.lost} → ${ok ? 'held' : 'not held'}`,
        );
        const retried = steps.length >= 2 && steps[steps.length - 2]?.rate === rate;
        if (!ok && clean(m.load) && opts.capacityRetry && !retried) {
          // A p99 miss is measured once more before it counts: on a shared machine another
          // process can stall everything for a moment. Loss or errors count at once.
          i--;
          await sleep(500);
          continue;
        }
        if (!ok) {
          stoppedBy = clean(m.load)
            ? `p99 ${m.load.latency_ms.p99} ms > ${opts.p99LimitMs} ms at ${rate} msg/s`
            : `loss or errors at ${rate} msg/s`;
          break;
        }
        held = rate;
        rate = Math.round(rate * opts.capacityFactor);
        await sleep(500);
      }
      result.capacity = {
        chats: opts.chats,
        p99_limit_ms: opts.p99LimitMs,
        held_rate: held,
        stopped_by: stoppedBy,
        steps,
      };
    }
  } finally {
    await pool.close();
  }
}

async function runIdle(target: RunningTarget, opts: BenchOptions, result: TargetResult) {
  const holders = target.components.filter((c) => target.connectionHolders.includes(c.name));
  // One server process cannot hold more sockets than its open-file limit (plus a margin for its own files).
  const perHolderMax = openFilesLimit() - 1000;
  let connections = opts.idleConnections;
  let note: string | undefined;
  if (connections > perHolderMax * holders.length) {
    connections = perHolderMax * holders.length;
    note = `lowered from ${opts.idleConnections}: the open-file limit is ${openFilesLimit()} per process (${holders.length} connection-holding process(es))`;
    opts.log(`  ${target.kind} idle: ${note}`);
  }
  // A sample taken after this point: the heap and RSS before the connections arrive.
  const mark = Date.now();
  const before = new Map<string, ProbeSample | undefined>();
  for (const h of holders) before.set(h.name, await probeSampleAfter(h.probeFile, mark));
  const pool = new GeneratorPool({
    target: target.spec,
    chats: connections,
    operators: false,
    maxConnectionsPerProcess: opts.maxConnectionsPerProcess,
    heartbeatMs: opts.heartbeatMs,
    concurrency: opts.concurrency,
    chatsPerOperator: opts.chatsPerOperator,
  });
  try {
    opts.log(`  ${target.kind} idle: ramping to ${connections} connections`);
    const rampStarted = Date.now();
    const setups = await pool.setup();
    const open = setups.reduce((a, s) => a + s.connections, 0);
    const rampS = round((Date.now() - rampStarted) / 1000, 1);
    opts.log(`    ${open} connections in ${rampS} s; holding ${opts.idleHoldS} s`);
    await withSampler(target, pool, async (sampler) => {
      // Let the ramp's garbage be collected out of the picture before measuring.
      await sleep(2000);
      const from = Date.now();
      await sleep(opts.idleHoldS * 1000);
      const to = Date.now();
      sampler.sampleAll();
      await sleep(1100); // one more probe sample inside the window
      const processes = sampler.usage(from, to);
      const probes = summariseProbes(target, from, to);
      result.idle = {
        target_connections: opts.idleConnections,
        connections: open,
        ...(note ? { note } : {}),
        ramp_s: rampS,
        ramp_retries: setups.reduce((a, s) => a + s.retries, 0),
        hold_s: opts.idleHoldS,
        holders: holders.map((h) => {
          const start = before.get(h.name);
          const end = readProbe(h.probeFile)
            .filter((s) => s.t <= to + 1000)
            .at(-1);
          const share = open / holders.length;
          const usage = processes.find((p) => p.name === h.name);
          const probe = probes.find((p) => p.name === h.name);
          return {
            name: h.name,
            heap_per_connection_kb:
              start && end ? round((end.heap_used - start.heap_used) / share / 1024, 2) : 0,
            rss_per_connection_kb:
              start && end ? round((end.rss - start.rss) / share / 1024, 2) : 0,
            el_p99_ms: probe?.el_p99_ms_max ?? 0,
            cpu_percent: usage?.cpu_percent ?? 0,
            rss_mb: usage?.rss_mb_end ?? 0,
          };
        }),
        processes,
        probes,
      };
    });
  } finally {
    await pool.close();
  }
}

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const started = new Date();
  const report: BenchReport = {
    started_at: started.toISOString(),
    finished_at: '',
    commit: gitCommit(),
    machine: {
      cores: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? 'unknown',
      memory_mb: Math.round(os.totalmem() / 2 ** 20),
      node: process.version,
      open_files_limit: openFilesLimit(),
      load_average_start: os.loadavg().map((n) => round(n)),
      load_average_end: [],
    },
    options: Object.fromEntries(Object.entries(opts).filter(([k]) => k !== 'log')) as Omit<
      BenchOptions,
      'log'
    >,
    results: {},
    skipped: {},
  };
  for (const kind of opts.targets) {
    if (kind === 'parley' && !parleyAvailable()) {
      report.skipped.parley = 'the services (services/*/src/index.ts) do not exist yet';
      opts.log(`parley: skipped, ${report.skipped.parley}`);
      continue;
    }
    const work = makeWorkDir();
    const targetOpts = { workDir: work.dir, cpuProfile: opts.cpuProfile, gateways: opts.gateways };
    opts.log(`${kind}: starting`);
    const target = kind === 'relay' ? await startRelay(targetOpts) : await startParley(targetOpts);
    const result: TargetResult = {
      components: target.components.map(({ name, pid }) => ({ name, pid })),
    };
    report.results[kind] = result;
    try {
      await runMessageScenarios(target, opts, result);
      if (opts.scenarios.includes('idle')) await runIdle(target, opts, result);
    } catch (err) {
      result.error = err instanceof Error ? err.message : String(err);
      opts.log(`${kind}: failed: ${result.error}`);
      const logs = target.logs();
      if (logs) opts.log(`${kind}: service logs:\n${logs}`);
    } finally {
      await target.stop();
      if (opts.cpuProfile) {
        result.profiles = summariseProfiles(path.join(work.dir, 'profiles')).map((p) => ({
          name: target.components.find((c) => c.pid === p.pid)?.name ?? `pid ${p.pid}`,
          ...p,
        }));
      }
      if (opts.cpuProfile)
        opts.log(`${kind}: CPU profiles kept in ${path.join(work.dir, 'profiles')}`);
      else work.remove();
    }
  }
  report.finished_at = new Date().toISOString();
  report.machine.load_average_end = os.loadavg().map((n) => round(n));
  return report;
}
