import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { loadSchemas, type ServiceName } from '../../scripts/gen-config-docs.ts';
import {
  byKind,
  infraServices,
  loadCompose,
  parleyServices,
  kubectlPath,
  renderKustomization,
  renderOverlay,
  repoRoot,
  type Container,
  type Deployment,
  type K8sObject,
} from './manifests.ts';

let schemas: Record<ServiceName, z.ZodObject>;
beforeAll(async () => {
  schemas = await loadSchemas();
});
const schemaDefault = (name: ServiceName, key: string): unknown =>
  (schemas[name].shape[key] as z.ZodType | undefined)?.safeParse(undefined).data;

const isService = (name: string): name is ServiceName =>
  (parleyServices as readonly string[]).includes(name);

interface Hpa extends K8sObject {
  spec: {
    scaleTargetRef: { kind: string; name: string };
    minReplicas: number;
    maxReplicas: number;
    metrics: Array<{
      type: string;
      resource?: { name: string };
      pods?: { metric: { name: string } };
    }>;
  };
}
interface Pdb extends K8sObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    maxUnavailable?: number;
    minAvailable?: number;
  };
}
interface Service extends K8sObject {
  spec: {
    selector: Record<string, string>;
    ports: Array<{ name: string; port: number; targetPort: string | number }>;
  };
}
interface NetworkPolicy extends K8sObject {
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    ingress: Array<{
      from: Array<{
        podSelector?: { matchLabels: Record<string, string> };
        namespaceSelector?: unknown;
      }>;
    }>;
  };
}
interface Ingress extends K8sObject {
  spec: {
    rules: Array<{
      host: string;
      http: {
        paths: Array<{
          path: string;
          backend: { service: { name: string; port: { name?: string } } };
        }>;
      };
    }>;
    tls?: unknown[];
  };
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

for (const overlay of ['development', 'production'] as const) {
  describe(`Kustomize overlay ${overlay}`, () => {
    const { objects, renderer } = renderOverlay(overlay);
    const deployments = byKind<Deployment>(objects, 'Deployment');
    const configMaps = byKind<K8sObject & { data?: Record<string, string> }>(objects, 'ConfigMap');
    const main = (d: Deployment): Container => d.spec.template.spec.containers[0]!;

    it(`renders (${renderer}) with one Deployment per compose service, and the reverse`, () => {
      const { compose } = loadCompose();
      const composeServices = Object.keys(compose.services).filter(
        (n) => !(infraServices as readonly string[]).includes(n),
      );
      expect(deployments.map((d) => d.metadata.name).sort()).toEqual(composeServices.sort());
      // NATS, MongoDB and Redis come from their charts/operators, each with a values file.
      const values = readdirSync(path.join(repoRoot, 'deploy/helm-values'));
      for (const infra of infraServices) {
        const prefix = infra === 'mongo' ? 'mongodb' : infra;
        expect(
          values.some((f) => f.startsWith(prefix)),
          `deploy/helm-values has no ${prefix} values`,
        ).toBe(true);
      }
      expect(byKind(objects, 'StatefulSet')).toEqual([]);
    });

    it('listens, probes and is reached on the port the config schema defines', () => {
      for (const d of deployments) {
        const name = d.metadata.name;
        if (!isService(name)) throw new Error(`unexpected Deployment ${name}`);
        const c = main(d);
        const port = c.ports?.find((p) => p.name === 'http');
        expect(port?.containerPort, `${name} port`).toBe(schemaDefault(name, 'HTTP_PORT'));
        expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
        expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
        const svc = byKind<Service>(objects, 'Service').find((s) => s.metadata.name === name);
        expect(svc, `Service ${name}`).toBeDefined();
        expect(selects(svc!.spec.selector, d.spec.template.metadata.labels)).toBe(true);
        expect(svc!.spec.ports[0]).toMatchObject({
          port: schemaDefault(name, 'HTTP_PORT'),
          targetPort: 'http',
        });
      }
    });

    it('gives every container resource requests and limits', () => {
      for (const d of deployments) {
        const r = main(d).resources;
        for (const k of ['cpu', 'memory']) {
          expect(r?.requests?.[k], `${d.metadata.name} requests.${k}`).toBeTruthy();
          expect(r?.limits?.[k], `${d.metadata.name} limits.${k}`).toBeTruthy();
        }
      }
    });

    it('runs as non-root on a read-only root filesystem, with emptyDirs for scratch space', () => {
      for (const d of deployments) {
        const pod = d.spec.template.spec;
        expect(pod.securityContext?.runAsNonRoot).toBe(true);
        expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
        const c = main(d);
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
        });
        expect(c.securityContext?.capabilities?.drop).toContain('ALL');
        const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(tmp, `${d.metadata.name} /tmp mount`).toBeDefined();
        expect(pod.volumes?.find((v) => v.name === tmp!.name)?.emptyDir).toBeDefined();
      }
    });

    it('gives a stopping pod longer than preStop plus the drain limit', () => {
      for (const d of deployments) {
        const pod = d.spec.template.spec;
        const c = main(d);
        const preStopSeconds = Number(
          c.lifecycle?.preStop?.exec?.command.at(-1) ?? c.lifecycle?.preStop?.sleep?.seconds ?? 0,
        );
        const common = configMaps.find((m) => m.metadata.name.startsWith('parley-common'));
        const drainMs = Number(
          common?.data?.SHUTDOWN_TIMEOUT_MS ?? schemaDefault('gateway', 'SHUTDOWN_TIMEOUT_MS'),
        );
        expect((pod.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(
          preStopSeconds * 1000 + drainMs,
        );
      }
    });

    it("sets only environment names that the service's config schema knows", () => {
      for (const d of deployments) {
        const name = d.metadata.name as ServiceName;
        const known = Object.keys(schemas[name].shape);
        const c = main(d);
        const names = (c.env ?? []).map((e) => e.name);
        for (const ref of c.envFrom ?? []) {
          if (ref.secretRef)
            throw new Error(`${name}: secrets are referenced by key, not with envFrom`);
          const cm = configMaps.find((m) => m.metadata.name === ref.configMapRef?.name);
          expect(cm, `${name}: ConfigMap ${ref.configMapRef?.name} is not rendered`).toBeDefined();
          names.push(...Object.keys(cm!.data ?? {}));
        }
        for (const env of names)
          expect(known, `${name}: ${env} is not in services/${name}/src/config.ts`).toContain(env);
        // Production mode requires the secrets: every one the schema has must be wired.
        for (const key of known.filter((k) => /_SECRET$/.test(k)))
          expect(names, `${name}: ${key}`).toContain(key);
      }
    });

    it('references Secrets that exist in the overlay or are documented for the operator to create', () => {
      const readme = readFileSync(path.join(repoRoot, 'deploy/README.md'), 'utf8');
      const generated = byKind(objects, 'Secret').map((s) => s.metadata.name);
      for (const d of deployments) {
        for (const e of main(d).env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (!ref) continue;
          const exists = generated.some((g) => g === ref.name || g.startsWith(`${ref.name}-`));
          if (!exists) {
            expect(
              readme,
              `deploy/README.md must say how to create ${ref.name}/${ref.key}`,
            ).toContain(ref.name);
            expect(readme).toContain(ref.key);
          }
        }
      }
    });

    it('pins images to a tag, never "latest"', () => {
      for (const d of deployments) {
        const image = main(d).image;
        expect(image).toMatch(/:[\w][\w.-]*$/);
        expect(image).not.toMatch(/:latest$/);
      }
    });

    it('has a PodDisruptionBudget and an autoscaler for every Deployment (gateway on CPU and connections)', () => {
      const gatewaySource = readdirSync(path.join(repoRoot, 'services/gateway/src'), {
        recursive: true,
        encoding: 'utf8',
      })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => readFileSync(path.join(repoRoot, 'services/gateway/src', f), 'utf8'))
        .join('\n');
      for (const d of deployments) {
        const name = d.metadata.name;
        const pdb = byKind<Pdb>(objects, 'PodDisruptionBudget').find((p) =>
          selects(p.spec.selector.matchLabels, d.spec.template.metadata.labels),
        );
        expect(pdb, `PDB for ${name}`).toBeDefined();
        const hpa = byKind<Hpa>(objects, 'HorizontalPodAutoscaler').find(
          (h) => h.spec.scaleTargetRef.name === name,
        );
        expect(hpa, `HPA for ${name}`).toBeDefined();
        expect(hpa!.spec.maxReplicas).toBeGreaterThan(1);
        if (overlay === 'production') expect(hpa!.spec.minReplicas).toBeGreaterThanOrEqual(2);
        expect(
          hpa!.spec.metrics.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu'),
        ).toBe(true);
        if (name === 'gateway') {
          const pods = hpa!.spec.metrics.find((m) => m.type === 'Pods');
          expect(pods, 'gateway HPA scales on connections').toBeDefined();
          // The metric the HPA reads is one the gateway really exports.
          expect(gatewaySource).toContain(`'${pods!.pods!.metric.name}'`);
        }
      }
    });

    it('routes the public paths to the gateway, with WebSocket timeouts and no session affinity', () => {
      const [ingress] = byKind<Ingress>(objects, 'Ingress');
      expect(ingress).toBeDefined();
      const a = ingress!.metadata.annotations ?? {};
      expect(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(
        3600,
      );
      expect(Number(a['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBeGreaterThanOrEqual(
        3600,
      );
      expect(Object.keys(a).filter((k) => /affinity|sticky/i.test(k))).toEqual([]);
      const paths = ingress!.spec.rules.flatMap((r) => r.http.paths);
      expect(paths.map((p) => p.path).sort()).toEqual(['/admin', '/api', '/widget', '/ws']);
      for (const p of paths)
        expect(p.backend.service).toEqual({ name: 'gateway', port: { name: 'http' } });
      for (const svc of byKind<Service>(objects, 'Service')) {
        expect((svc.spec as { sessionAffinity?: string }).sessionAffinity ?? 'None').toBe('None');
      }
      if (overlay === 'production') expect(ingress!.spec.tls?.length).toBeGreaterThan(0);
      // The chat service's internal attachment HTTP is reachable from gateway pods only.
      const chat = deployments.find((d) => d.metadata.name === 'chat')!;
      const gateway = deployments.find((d) => d.metadata.name === 'gateway')!;
      const policy = byKind<NetworkPolicy>(objects, 'NetworkPolicy').find((p) =>
        selects(p.spec.podSelector.matchLabels, chat.spec.template.metadata.labels),
      );
      expect(policy, 'NetworkPolicy for chat').toBeDefined();
      const podPeers = policy!.spec.ingress
        .flatMap((rule) => rule.from)
        .filter((peer) => peer.podSelector);
      expect(podPeers).toHaveLength(1);
      expect(
        selects(podPeers[0]!.podSelector!.matchLabels, gateway.spec.template.metadata.labels),
      ).toBe(true);
      // The gateway trusts X-Forwarded-For only because it sits behind this Ingress: one hop.
      const gw = configMaps.find((m) => m.metadata.name.startsWith('parley-gateway'));
      expect(gw?.data?.TRUST_PROXY_HOPS).toBe('1');
    });
  });
}

describe('the built-in renderer (used where kubectl is missing)', () => {
  it.skipIf(!kubectlPath)('agrees with kubectl kustomize on every object and container', () => {
    for (const overlay of ['development', 'production'] as const) {
      const summary = (objects: K8sObject[]) =>
        objects
          .map((o) => {
            // kubectl appends a content hash to generated ConfigMap/Secret names.
            const name = /^parley-[a-z]+-[a-z0-9]{10}$/.test(o.metadata.name)
              ? o.metadata.name.replace(/-[a-z0-9]{10}$/, '')
              : o.metadata.name;
            const containers = (o as Partial<Deployment>).spec?.template?.spec?.containers?.map(
              (c) => ({
                image: c.image,
                env: (c.env ?? []).map((e) => e.name),
                readOnly: c.securityContext?.readOnlyRootFilesystem,
                probes: [c.readinessProbe?.httpGet?.path, c.livenessProbe?.httpGet?.path],
              }),
            );
            // Key order and base64 line wrapping are presentation, not content.
            const raw = (o as { data?: Record<string, string> }).data ?? {};
            const data = Object.fromEntries(
              Object.entries(raw)
                .map(([k, v]) => [
                  k,
                  o.kind === 'Secret' ? Buffer.from(v.replace(/\s/g, ''), 'base64').toString() : v,
                ])
                .sort(([a], [b]) => String(a).localeCompare(String(b))),
            );
            return JSON.stringify({
              kind: o.kind,
              name,
              namespace: o.metadata.namespace,
              containers,
              data,
            });
          })
          .sort();
      const viaKubectl = renderOverlay(overlay).objects;
      const builtIn = renderKustomization(path.join(repoRoot, 'deploy/overlays', overlay));
      expect(summary(builtIn)).toEqual(summary(viaKubectl));
    }
  });
  if (!kubectlPath)
    console.log('built-in renderer comparison skipped: kubectl is not installed here');
});

describe('infrastructure values (deploy/helm-values, deploy/infra)', () => {
  const load = (file: string): unknown =>
    parseYaml(readFileSync(path.join(repoRoot, 'deploy', file), 'utf8'));
  /** A value by dotted path ("config.cluster.replicas"). */
  const at = (tree: unknown, dotted: string): unknown =>
    dotted
      .split('.')
      .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], tree);

  it('NATS: a 3-server cluster with JetStream on persistent volumes', () => {
    const v = load('helm-values/nats.yaml');
    expect(at(v, 'config.cluster')).toMatchObject({ enabled: true, replicas: 3 });
    expect(at(v, 'config.jetstream.enabled')).toBe(true);
    expect(at(v, 'config.jetstream.fileStore.pvc')).toMatchObject({ enabled: true });
  });

  it('MongoDB: an operator-managed replica set of three with authentication', () => {
    expect(existsSync(path.join(repoRoot, 'deploy/helm-values/mongodb-operator.yaml'))).toBe(true);
    const rs = load('infra/mongodb.yaml');
    expect(at(rs, 'kind')).toBe('MongoDBCommunity');
    expect(at(rs, 'spec')).toMatchObject({ type: 'ReplicaSet', members: 3 });
    expect(at(rs, 'spec.version')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(at(rs, 'spec.security.authentication.modes')).toContain('SCRAM');
  });

  it('Redis: AOF persistence on a volume', () => {
    const v = load('helm-values/redis.yaml');
    expect(at(v, 'externalConfig.data')).toMatch(/appendonly yes/);
    expect(at(v, 'storageSpec.volumeClaimTemplate.spec.resources.requests.storage')).toBeTruthy();
    expect(at(v, 'redisStandalone.tag')).not.toBe('latest');
  });
});
