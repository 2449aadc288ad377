/**
 * Loads what the deployment tests check: the Dockerfile as instructions, docker-compose.yml,
 * and the Kustomize overlays rendered by `kubectl kustomize`.
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

/** kubectl (with its built-in kustomize): installed on the development image and on CI's. */
export const kubectlPath = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) =>
  existsSync(p),
);

/** `kubectl kustomize` of a kustomization directory, as objects. */
export function kustomize(dir: string, opts: { anyPath?: boolean } = {}): K8sObject[] {
  if (!kubectlPath) {
    throw new Error(
      'kubectl is not installed: the Kubernetes checks render with `kubectl kustomize` (apt-get install kubectl, or put kubectl on /usr/local/bin)',
    );
  }
  const args = ['kustomize', dir];
  // A test kustomization outside deploy/ that adds components to an overlay.
  if (opts.anyPath) args.push('--load-restrictor=LoadRestrictionsNone');
  const out = execFileSync(kubectlPath, args, { encoding: 'utf8' });
  return yamlObjects(out);
}

export function renderOverlay(overlay: 'development' | 'production'): K8sObject[] {
  return kustomize(path.join(repoRoot, 'deploy', 'overlays', overlay));
}

export function yamlObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
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
