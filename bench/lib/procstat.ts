/**
 * CPU and memory of every process in a run, read from /proc from outside the process:
 * utime+stime from /proc/<pid>/stat, VmRSS from /proc/<pid>/status. Sampled every second so
 * the report can give CPU over a window and peak RSS.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface Component {
  /** e.g. gateway, chat, nats-server, relay, generator-0 */
  name: string;
  pid: number;
  /** File written by bench/lib/probe.ts inside the process, when it runs Node with the probe. */
  probeFile?: string;
}

interface Sample {
  t: number;
  cpuTicks: number;
  rss: number;
}

export interface ProcessUsage {
  name: string;
  pid: number;
  /** Share of one core over the window (100 = one core busy). */
  cpu_percent: number;
  rss_mb_end: number;
  rss_mb_peak: number;
}

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

function read(pid: number): Omit<Sample, 't'> | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state, field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuTicks, rss: rssKb * 1024 };
  } catch {
    return null;
  }
}

export class ProcessSampler {
  private readonly samples = new Map<number, Sample[]>();
  private readonly components: Component[] = [];
  private timer: NodeJS.Timeout | undefined;

  add(component: Component) {
    this.components.push(component);
    this.sampleOne(component.pid);
  }

  start(intervalMs = 1000) {
    this.timer = setInterval(() => this.sampleAll(), intervalMs);
    this.timer.unref();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
  }

  list(): readonly Component[] {
    return this.components;
  }

  private sampleOne(pid: number) {
    const s = read(pid);
    if (!s) return;
    let list = this.samples.get(pid);
    if (!list) {
      list = [];
      this.samples.set(pid, list);
    }
    list.push({ t: Date.now(), ...s });
  }

  sampleAll() {
    for (const c of this.components) this.sampleOne(c.pid);
  }

  /** Usage of every component between two wall-clock times (ms since epoch). */
  usage(from: number, to: number): ProcessUsage[] {
    return this.components.map((c) => {
      const list = (this.samples.get(c.pid) ?? []).filter(
        (s) => s.t >= from - 1000 && s.t <= to + 1000,
      );
      const first = list.find((s) => s.t >= from) ?? list[0];
      const last = [...list].reverse().find((s) => s.t <= to) ?? list[list.length - 1];
      const seconds = first && last ? (last.t - first.t) / 1000 : 0;
      const cpu =
        first && last && seconds > 0
          ? ((last.cpuTicks - first.cpuTicks) / clockTicks / seconds) * 100
          : 0;
      const inWindow = list.filter((s) => s.t >= from && s.t <= to);
      return {
        name: c.name,
        pid: c.pid,
        cpu_percent: round(cpu, 1),
        rss_mb_end: round((last?.rss ?? 0) / 2 ** 20, 1),
        rss_mb_peak: round(Math.max(0, ...inWindow.map((s) => s.rss)) / 2 ** 20, 1),
      };
    });
  }
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
