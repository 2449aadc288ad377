/** Summarises V8 .cpuprofile files (written by --cpu-prof) into the functions with the most self time. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface TopFrame {
  function: string;
  location: string;
  self_percent: number;
}

export interface ProfileSummary {
  pid: number;
  file: string;
  samples: number;
  /** Share of samples where the process was idle (waiting for I/O). */
  idle_percent: number;
  top: TopFrame[];
  /** Self time grouped by where the code lives (a service folder, a package, node internals, native). */
  by_module: Array<{ module: string; self_percent: number }>;
}

export function summariseProfile(file: string, topN = 15): Omit<ProfileSummary, 'pid'> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const byFrame = new Map<string, { fn: string; location: string; hits: number }>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') idle += hits;
    const fn = functionName || '(anonymous)';
    const location = url
      ? `${url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'node_modules/')}:${lineNumber + 1}`
      : '';
    const key = `${fn}@${location}`;
    const entry = byFrame.get(key) ?? { fn, location, hits: 0 };
    entry.hits += hits;
    byFrame.set(key, entry);
  }
  const busy = total - idle;
  const modules = new Map<string, number>();
  for (const f of byFrame.values()) {
    if (f.fn === '(idle)' || f.fn === '(program)') continue;
    const m = moduleOf(f.fn, f.location);
    modules.set(m, (modules.get(m) ?? 0) + f.hits);
  }
  const byModule = [...modules.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([module, hits]) => ({
      module,
      self_percent: busy > 0 ? Math.round((hits / busy) * 1000) / 10 : 0,
    }));
  const top = [...byFrame.values()]
    .filter((f) => f.fn !== '(idle)' && f.fn !== '(program)')
    .sort((a, b) => b.hits - a.hits)
    .slice(0, topN)
    .map((f) => ({
      function: f.fn,
      location: shorten(f.location),
      // Share of the busy (non-idle) time, which is what an optimisation can win back.
      self_percent: busy > 0 ? Math.round((f.hits / busy) * 1000) / 10 : 0,
    }));
  return {
    file,
    samples: total,
    idle_percent: total > 0 ? Math.round((idle / total) * 1000) / 10 : 0,
    top,
    by_module: byModule,
  };
}

function moduleOf(fn: string, location: string): string {
  if (!location) return fn === '(garbage collector)' ? 'gc' : 'native (I/O syscalls, builtins)';
  if (location.startsWith('node:')) return 'node internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(location);
  if (pkg?.[1]) return pkg[1];
  const own = /((?:services|packages|contracts)\/[^/]+)/.exec(location);
  return own?.[1] ?? location;
}

function shorten(location: string): string {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..') + '/';
  return location.replace(root, '');
}

/** Every profile in a directory; file names are CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile. */
export function summariseProfiles(dir: string, topN = 15): ProfileSummary[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return [];
  }
  return files.map((f) => {
    const pid = Number(f.split('.')[3]);
    return { pid, ...summariseProfile(path.join(dir, f), topN) };
  });
}
