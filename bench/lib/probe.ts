/**
 * Preloaded into every Node component under test (`--import bench/lib/probe.ts`, via
 * NODE_OPTIONS for services). Once a second it writes the last minutes of samples to
 * BENCH_PROBE_DIR/<pid>.json: heap, RSS and the event-loop delay of that second. Reading /proc gives CPU
 * and RSS from outside; only the process itself can see its heap and event-loop delay.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface ProbeSample {
  /** Wall clock, ms since epoch. */
  t: number;
  rss: number;
  heap_used: number;
  heap_total: number;
  external: number;
  /** Event-loop delay over this one-second window, milliseconds. */
  el_p50_ms: number;
  el_p99_ms: number;
  el_max_ms: number;
  /** Event-loop utilisation over the window, 0..1. */
  elu: number;
}

const dir = process.env.BENCH_PROBE_DIR;
const file = dir ? `${dir}/${process.pid}.json` : undefined;
if (dir && file) {
  mkdirSync(dir, { recursive: true });
  const keep = 600;
  const samples: ProbeSample[] = [];
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let lastElu = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const mem = process.memoryUsage();
    const elu = performance.eventLoopUtilization(lastElu);
    lastElu = performance.eventLoopUtilization();
    samples.push({
      t: Date.now(),
      rss: mem.rss,
      heap_used: mem.heapUsed,
      heap_total: mem.heapTotal,
      external: mem.external,
      el_p50_ms: delay.percentile(50) / 1e6,
      el_p99_ms: delay.percentile(99) / 1e6,
      el_max_ms: delay.max / 1e6,
      elu: elu.utilization,
    });
    delay.reset();
    if (samples.length > keep) samples.splice(0, samples.length - keep);
    // Write then rename, so a reader never sees half a file.
    writeFileSync(`${file}.tmp`, JSON.stringify({ pid: process.pid, samples }));
    renameSync(`${file}.tmp`, file);
  }, 1000);
  timer.unref();
}
