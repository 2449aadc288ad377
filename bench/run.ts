/**
 * `npm run bench [-- flags]`: runs the scenarios against the bare relay and against Parley with
 * the same load generator, prints a summary table and writes bench/results/<timestamp>.json.
 * `npm run bench -- --help` lists the flags.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatReport } from './lib/report.ts';
import {
  runBench,
  type BenchOptions,
  type ScenarioName,
  type TargetKind,
} from './lib/scenarios.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));

const flags = {
  quick: { type: 'boolean', default: false, help: 'small numbers, finishes in under 2 minutes' },
  targets: { type: 'string', default: 'relay,parley', help: 'comma-separated: relay, parley' },
  scenarios: {
    type: 'string',
    default: 'steady,capacity,idle',
    help: 'comma-separated: steady, capacity, idle',
  },
  chats: {
    type: 'string',
    default: '500',
    help: 'active chats (one visitor + one operator connection each)',
  },
  rate: {
    type: 'string',
    default: '1000',
    help: 'steady: messages per second in total, open loop',
  },
  duration: { type: 'string', default: '60', help: 'steady: seconds of load' },
  drain: {
    type: 'string',
    default: '5',
    help: 'missing messages count as lost once nothing arrived for this many seconds',
  },
  'max-drain': {
    type: 'string',
    default: '180',
    help: 'most seconds to wait for the backlog after the last send',
  },
  'capacity-start': { type: 'string', default: '100', help: 'capacity: first rate (msg/s)' },
  'capacity-factor': { type: 'string', default: '1.5', help: 'capacity: rate multiplier per step' },
  'capacity-step': { type: 'string', default: '15', help: 'capacity: seconds per step' },
  'capacity-max-steps': { type: 'string', default: '12', help: 'capacity: most steps' },
  'capacity-no-retry': {
    type: 'boolean',
    default: false,
    help: 'capacity: stop at the first p99 miss instead of measuring that step once more',
  },
  'p99-limit': {
    type: 'string',
    default: '100',
    help: 'capacity: a step holds while p99 stays at or below this (ms)',
  },
  'idle-connections': { type: 'string', default: '20000', help: 'idle: connections to hold' },
  'idle-hold': {
    type: 'string',
    default: '30',
    help: 'idle: seconds to hold them while measuring',
  },
  heartbeat: {
    type: 'string',
    default: '25000',
    help: 'client ping interval (ms) when the server names none',
  },
  gateways: { type: 'string', default: '1', help: 'gateway replicas' },
  generators: { type: 'string', default: '1', help: 'least load-generator processes' },
  'max-connections-per-generator': {
    type: 'string',
    default: '15000',
    help: 'more connections start more generator processes',
  },
  concurrency: { type: 'string', default: '64', help: 'setup requests in flight per generator' },
  'chats-per-operator': {
    type: 'string',
    default: '100',
    help: 'Parley: bench operators go online and take this many chats each (0: chats stay queued)',
  },
  'cpu-prof': {
    type: 'boolean',
    default: false,
    help: 'profile every Node component (V8 --cpu-prof) and summarise the top frames',
  },
  out: {
    type: 'string',
    default: path.join(benchDir, 'results'),
    help: 'directory of the JSON results',
  },
  help: { type: 'boolean', default: false, help: 'this list' },
} as const;

const { values } = parseArgs({
  options: Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, { type: v.type }])) as {
    [K in keyof typeof flags]: { type: (typeof flags)[K]['type'] };
  },
  strict: true,
});

if (values.help) {
  for (const [name, f] of Object.entries(flags))
    console.log(`  --${name.padEnd(30)} ${f.help} (default ${String(f.default)})`);
  process.exit(0);
}

function pick<K extends keyof typeof flags>(name: K, quickValue?: string): string {
  const given = values[name];
  if (typeof given === 'string') return given;
  if (values.quick && quickValue !== undefined) return quickValue;
  return String(flags[name].default);
}

function num<K extends keyof typeof flags>(name: K, quickValue?: string): number {
  const text = pick(name, quickValue);
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number, got "${text}"`);
    process.exit(2);
  }
  return n;
}

function list<T extends string>(name: 'targets' | 'scenarios', allowed: readonly T[]): T[] {
  const items = pick(name)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      console.error(`--${name}: unknown "${item}" (allowed: ${allowed.join(', ')})`);
      process.exit(2);
    }
  }
  return items as T[];
}

const options: BenchOptions = {
  targets: list<TargetKind>('targets', ['relay', 'parley']),
  scenarios: list<ScenarioName>('scenarios', ['steady', 'capacity', 'idle']),
  chats: num('chats', '50'),
  rate: num('rate', '200'),
  durationS: num('duration', '8'),
  drainS: num('drain', '3'),
  maxDrainS: num('max-drain', '30'),
  capacityStartRate: num('capacity-start', '100'),
  capacityFactor: num('capacity-factor', '2'),
  capacityStepS: num('capacity-step', '4'),
  capacityMaxSteps: num('capacity-max-steps', '3'),
  capacityRetry: !(values['capacity-no-retry'] ?? false),
  p99LimitMs: num('p99-limit'),
  idleConnections: num('idle-connections', '1000'),
  idleHoldS: num('idle-hold', '5'),
  heartbeatMs: num('heartbeat'),
  gateways: num('gateways'),
  generators: num('generators'),
  maxConnectionsPerProcess: num('max-connections-per-generator'),
  concurrency: num('concurrency'),
  chatsPerOperator: Number(pick('chats-per-operator')),
  cpuProfile: values['cpu-prof'] ?? false,
  log: (line) => console.log(line),
};

const report = await runBench(options);
const outDir = pick('out');
mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `${report.started_at.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\n${formatReport(report)}`);
console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
const failed = Object.values(report.results).some((r) => r.error);
process.exit(failed ? 1 : 0);
