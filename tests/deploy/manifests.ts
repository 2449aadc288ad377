/**
 * Loads what the deployment tests check: the Dockerfile as instructions, docker-compose.yml,
 * and the Kustomize overlays rendered (with `kubectl kustomize` when kubectl is installed,
 * otherwise with the small renderer below, which understands what deploy/ uses).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { repoRoot } from '../../scripts/gen-config-docs.ts';

export { repoRoot };

export const parleyServices = ['gateway', 'chat', 'routing', 'notify'] as const;
export const infraServices = ['nats', 'mongo', 'redis'] as const;

// ---------------------------------------------------------------- Dockerfile

export interface DockerInstruction {
  keyword: string;
  args: string;
  line: number;
}
export interface DockerStage {
  name: string | undefined;
  from: string;
  instructions: DockerInstruction[];
}
export interface Dockerfile {
  /** ARGs before the first FROM, with their defaults. */
  globalArgs: Record<string, string | undefined>;
  stages: DockerStage[];
}

/** Dockerfile syntax: `\` continues a line, `#` starts a comment line, KEYWORD args. */
export function parseDockerfile(text: string): Dockerfile {
  const instructions: DockerInstruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) return;
    if (pending && line.startsWith('#')) return;
    if (!pending) startLine = index + 1;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s*(.*)$/s.exec(full);
    if (m) instructions.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: startLine });
  });
  const globalArgs: Record<string, string | undefined> = {};
  const stages: DockerStage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ from: m[1]!, name: m[2], instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG')
        throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
      const [name, value] = ins.args.split('=', 2) as [string, string | undefined];
      globalArgs[name] = value;
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

export const dockerfilePath = path.join(repoRoot, 'deploy', 'docker', 'Dockerfile');
export function loadDockerfile(): Dockerfile {
  return parseDockerfile(readFileSync(dockerfilePath, 'utf8'));
}

// ---------------------------------------------------------------- compose

export interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; target?: string; args?: Record<string, string> };
  command?: string[] | string;
  entrypoint?: string[] | string;
  logging?: { driver?: string; options?: Record<string, string> };
  mem_limit?: string;
  environment?: Record<string, string | number | null>;
  env_file?: Array<string | { path: string; required?: boolean }>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
  tmpfs?: string[];
  stop_grace_period?: string;
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function loadCompose(): { text: string; compose: ComposeFile } {
  const text = readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
  // Compose files use YAML merge keys (<<) for the shared service settings.
  const compose = parseYaml(text, { merge: true }) as ComposeFile;
  return { text, compose };
}

// ---------------------------------------------------------------- Kubernetes

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

export const kubectlPath = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) =>
  existsSync(p),
);

export function renderOverlay(overlay: 'development' | 'production'): {
  objects: K8sObject[];
  renderer: string;
} {
  const dir = path.join(repoRoot, 'deploy', 'overlays', overlay);
  if (kubectlPath) {
    const out = execFileSync(kubectlPath, ['kustomize', dir], { encoding: 'utf8' });
    return { objects: yamlObjects(out), renderer: 'kubectl kustomize' };
  }
  return { objects: renderKustomization(dir), renderer: 'built-in YAML render' };
}

function yamlObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Strategic-merge as Kubernetes does it for what deploy/ patches: maps merge, named lists merge by name. */
function strategicMerge(target: unknown, patch: unknown): unknown {
  if (isObject(target) && isObject(patch)) {
    const out: Json = { ...target };
    for (const [k, v] of Object.entries(patch))
      out[k] = k in target ? strategicMerge(target[k], v) : v;
    return out;
  }
  if (
    Array.isArray(target) &&
    Array.isArray(patch) &&
    patch.every((p) => isObject(p) && 'name' in p)
  ) {
    const out = [...target];
    for (const p of patch as Json[]) {
      const i = out.findIndex((t) => isObject(t) && t.name === p.name);
      if (i >= 0) out[i] = strategicMerge(out[i], p);
      else out.push(p);
    }
    return out;
  }
  return patch;
}

function jsonPointerSet(obj: Json, pointer: string, value: unknown, op: string) {
  const keys = pointer
    .split('/')
    .slice(1)
    .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  let cur: Json = obj;
  for (const k of keys.slice(0, -1)) {
    if (!isObject(cur[k]) && !Array.isArray(cur[k])) cur[k] = {};
    cur = cur[k] as Json;
  }
  const last = keys.at(-1)!;
  if (op === 'remove') delete cur[last];
  else cur[last] = value;
}

interface Kustomization {
  namespace?: string;
  resources?: string[];
  labels?: Array<{ pairs: Record<string, string> }>;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
  configMapGenerator?: Array<{ name: string; behavior?: string; literals?: string[] }>;
  secretGenerator?: Array<{ name: string; literals?: string[] }>;
  patches?: Array<{ path?: string; patch?: string; target?: { kind?: string; name?: string } }>;
}

/**
 * The fallback renderer: resources, labels, namespace, images, ConfigMap/Secret generators
 * (merge behaviour, no hash suffix) and patches (strategic merge files, JSON6902 inline).
 */
export function renderKustomization(dir: string): K8sObject[] {
  const k = parseYaml(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  let objects: K8sObject[] = [];
  for (const res of k.resources ?? []) {
    const full = path.join(dir, res);
    objects.push(
      ...(existsSync(path.join(full, 'kustomization.yaml'))
        ? renderKustomization(full)
        : yamlObjects(readFileSync(full, 'utf8'))),
    );
  }
  const literalData = (literals: string[] = []) =>
    Object.fromEntries(
      literals.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  for (const gen of k.configMapGenerator ?? []) {
    const existing = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === gen.name);
    if (gen.behavior === 'merge' && existing) {
      existing.data = { ...(existing.data as Json), ...literalData(gen.literals) };
    } else {
      objects.push({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: gen.name },
        data: literalData(gen.literals),
      });
    }
  }
  for (const gen of k.secretGenerator ?? []) {
    const data = Object.entries(literalData(gen.literals)).map(([key, v]) => [
      key,
      Buffer.from(v).toString('base64'),
    ]);
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: gen.name },
      data: Object.fromEntries(data),
    });
  }
  for (const p of k.patches ?? []) {
    const matches = (o: K8sObject) =>
      (!p.target?.kind || o.kind === p.target.kind) &&
      (!p.target?.name || o.metadata.name === p.target.name);
    if (p.path) {
      const patch = parseYaml(readFileSync(path.join(dir, p.path), 'utf8')) as Json;
      objects = objects.map((o) => {
        if (!matches(o)) return o;
        const merged = strategicMerge(o, { ...patch, metadata: undefined }) as K8sObject;
        merged.metadata = o.metadata;
        return merged;
      });
    } else if (p.patch) {
      const ops = parseYaml(p.patch) as Array<{ op: string; path: string; value?: unknown }>;
      for (const o of objects.filter(matches))
        for (const op of ops) jsonPointerSet(o, op.path, op.value, op.op);
    }
  }
  for (const o of objects) {
    for (const l of k.labels ?? []) o.metadata.labels = { ...o.metadata.labels, ...l.pairs };
    if (k.namespace && o.kind !== 'Namespace') o.metadata.namespace = k.namespace;
    for (const c of containersOf(o)) {
      const [name, tag] = c.image.split(':') as [string, string | undefined];
      const rule = k.images?.find((i) => i.name === name);
      if (rule) c.image = `${rule.newName ?? name}:${rule.newTag ?? tag}`;
    }
  }
  return objects;
}

// ---------------------------------------------------------------- typed views

export interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
}
export interface Container {
  name: string;
  image: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string } };
  }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
export interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  terminationGracePeriodSeconds?: number;
  volumes?: Array<{ name: string; emptyDir?: unknown }>;
}
export interface Deployment extends K8sObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

export function containersOf(o: K8sObject): Container[] {
  const spec = (o as Partial<Deployment>).spec?.template?.spec;
  return spec?.containers ?? [];
}

export function byKind<T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}
