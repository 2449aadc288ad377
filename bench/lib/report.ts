/** The printed summary: our figures next to the bare relay's, and the ratio. */
import type { BenchReport, TargetResult } from './scenarios.ts';

type Row = [label: string, relay: number | undefined, parley: number | undefined, unit: string];

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '-';
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function ratio(relay: number | undefined, parley: number | undefined): string {
  if (relay === undefined || parley === undefined || relay === 0) return '-';
  return `${(parley / relay).toFixed(2)}×`;
}

function cpuTotal(
  processes: Array<{ name: string; cpu_percent: number }> | undefined,
): number | undefined {
  if (!processes) return undefined;
  return Math.round(
    processes.filter((p) => !p.name.startsWith('generator')).reduce((a, p) => a + p.cpu_percent, 0),
  );
}

function rows(r: Partial<Record<'relay' | 'parley', TargetResult>>): Row[] {
  const both = <T>(f: (t: TargetResult) => T | undefined): [T | undefined, T | undefined] => [
    r.relay ? f(r.relay) : undefined,
    r.parley ? f(r.parley) : undefined,
  ];
  const out: Row[] = [];
  const add = (label: string, unit: string, f: (t: TargetResult) => number | undefined) => {
    const [a, b] = both(f);
    if (a !== undefined || b !== undefined) out.push([label, a, b, unit]);
  };
  add('steady p50', 'ms', (t) => t.steady?.load.latency_ms.p50);
  add('steady p95', 'ms', (t) => t.steady?.load.latency_ms.p95);
  add('steady p99', 'ms', (t) => t.steady?.load.latency_ms.p99);
  add('steady p99.9', 'ms', (t) => t.steady?.load.latency_ms.p999);
  add('steady max', 'ms', (t) => t.steady?.load.latency_ms.max);
  add('steady delivered', 'msg/s', (t) => t.steady?.achieved_rate);
  add('steady lost', 'msgs', (t) => t.steady?.load.lost);
  add('steady backlog drained after', 's', (t) =>
    t.steady ? t.steady.load.drain_ms / 1000 : undefined,
  );
  add('steady duplicated', 'msgs', (t) => t.steady?.load.duplicated);
  add('steady CPU (system under test)', '% core', (t) => cpuTotal(t.steady?.processes));
  add('capacity held', 'msg/s', (t) => t.capacity?.held_rate);
  add('idle connections', 'conns', (t) => t.idle?.connections);
  add('idle heap / connection', 'KB', (t) => t.idle?.holders[0]?.heap_per_connection_kb);
  add('idle RSS / connection', 'KB', (t) => t.idle?.holders[0]?.rss_per_connection_kb);
  add('idle event-loop p99', 'ms', (t) => t.idle?.holders[0]?.el_p99_ms);
  add('idle CPU (system under test)', '% core', (t) => cpuTotal(t.idle?.processes));
  return out;
}

function table(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function formatReport(report: BenchReport): string {
  const parts: string[] = [];
  parts.push(
    `Parley bench ${report.started_at} commit ${report.commit} · ${report.machine.cores} cores (${report.machine.cpu_model}) · node ${report.machine.node} · load average ${report.machine.load_average_start.join(' ')} → ${report.machine.load_average_end.join(' ')}`,
  );
  parts.push(
    table(
      ['', 'relay', 'parley', 'parley/relay', 'unit'],
      rows(report.results).map(([label, a, b, unit]) => [label, fmt(a), fmt(b), ratio(a, b), unit]),
    ),
  );
  for (const [kind, result] of Object.entries(report.results)) {
    const procs = result.steady?.processes ?? result.idle?.processes;
    if (procs) {
      parts.push(
        `${kind} processes (${result.steady ? 'steady' : 'idle'}): ` +
          procs.map((p) => `${p.name} ${fmt(p.cpu_percent)}% ${fmt(p.rss_mb_peak)} MB`).join(' · '),
      );
    }
    if (result.capacity) parts.push(`${kind} capacity stopped: ${result.capacity.stopped_by}`);
    if (result.idle?.note) parts.push(`${kind} idle: ${result.idle.note}`);
    for (const [load, name] of [
      [result.steady?.load, 'steady'],
      ...(result.capacity?.steps.map((s) => [s.load, `capacity ${s.rate}`] as const) ?? []),
    ] as const) {
      if (load && Object.keys(load.errors).length > 0)
        parts.push(`${kind} ${name} errors: ${JSON.stringify(load.errors)}`);
    }
    if (result.error) parts.push(`${kind} FAILED: ${result.error}`);
    for (const profile of result.profiles ?? []) {
      parts.push(
        `${kind} ${profile.name} CPU profile (${profile.idle_percent}% idle), top self time:\n` +
          profile.top
            .slice(0, 10)
            .map((f) => `  ${f.self_percent.toFixed(1).padStart(5)}%  ${f.function}  ${f.location}`)
            .join('\n') +
          `\n  by module: ${profile.by_module
            .slice(0, 8)
            .map((m) => `${m.module} ${m.self_percent}%`)
            .join(' · ')}`,
      );
    }
  }
  for (const [kind, why] of Object.entries(report.skipped)) parts.push(`${kind}: skipped, ${why}`);
  return parts.join('\n\n');
}
