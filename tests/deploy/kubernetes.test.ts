import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { loadSchemas, type ServiceName } from '../../scripts/gen-config-docs.ts';
import { natsServices } from '@parley/contracts/nats-permissions';
import { validateK8sObjects } from './k8s-schema.ts';
import {
  byKind,
  infraServices,
  loadCompose,
  parleyServices,
  kustomize,
  renderOverlay,
  yamlObjects,
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
    podSelector: { matchLabels?: Record<string, string> };
    ingress?: Array<{
      from: Array<{
        podSelector?: { matchLabels: Record<string, string> };
        namespaceSelector?: unknown;
      }>;
    }>;
  };
}
interface HttpRoute extends K8sObject {
  spec: {
    parentRefs: Array<{ name: string; sectionName?: string }>;
    hostnames: string[];
    rules: Array<{
      matches: Array<{ path: { type: string; value: string } }>;
      timeouts?: { request?: string };
      filters?: Array<{ type: string }>;
      backendRefs?: Array<{ name: string; port: number }>;
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
    const objects = renderOverlay(overlay);
    const deployments = byKind<Deployment>(objects, 'Deployment');
    const configMaps = byKind<K8sObject & { data?: Record<string, string> }>(objects, 'ConfigMap');
    const main = (d: Deployment): Container => d.spec.template.spec.containers[0]!;

    it('is valid against the Kubernetes OpenAPI schemas, with no unknown field', async () => {
      expect(await validateK8sObjects(objects)).toEqual([]);
    });

    it('owns no Namespace, so deleting the overlay deletes no store or volume', () => {
      expect(byKind(objects, 'Namespace')).toEqual([]);
      expect(byKind(objects, 'PersistentVolumeClaim')).toEqual([]);
      for (const o of objects)
        expect(o.metadata.namespace).toBe(overlay === 'production' ? 'parley' : 'parley-dev');
      const common = configMaps.find((m) => m.metadata.name.startsWith('parley-common'));
      expect(common?.data?.NATS_URL).toBe('nats://nats.parley-infra.svc:4222');
    });

    it('connects every service to NATS as its own user', () => {
      for (const d of deployments) {
        const env = main(d).env ?? [];
        expect(env.find((e) => e.name === 'NATS_USER')?.value).toBe(d.metadata.name);
        const ref = env.find((e) => e.name === 'NATS_PASSWORD')?.valueFrom?.secretKeyRef;
        expect(ref?.name).toMatch(/^parley-nats(-[a-z0-9]{10})?$/);
        expect(ref?.key).toBe(d.metadata.name);
      }
      expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...natsServices].sort());
    });

    it('renders with one Deployment per compose service, and the reverse', () => {
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

    it('has a PodDisruptionBudget and a CPU autoscaler for every Deployment, and no metric it may not have', () => {
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
        // An HPA with a metric the cluster cannot serve never scales down: CPU only here.
        expect(hpa!.spec.metrics.map((m) => m.type)).toEqual(['Resource']);
      }
    });

    it('routes the public paths to the gateway through a Gateway API HTTPRoute, WebSockets without a timeout', () => {
      const [gw] = byKind<
        K8sObject & {
          spec: {
            gatewayClassName: string;
            listeners: Array<{ protocol: string; hostname: string; tls?: unknown }>;
          };
        }
      >(objects, 'Gateway');
      const [route] = byKind<HttpRoute>(objects, 'HTTPRoute');
      expect(gw && route).toBeTruthy();
      expect(gw!.spec.gatewayClassName).not.toBe('set-by-overlay');
      expect(route!.spec.parentRefs.map((r) => r.name)).toEqual([gw!.metadata.name]);
      expect([...new Set(gw!.spec.listeners.map((l) => l.hostname))]).toEqual(
        route!.spec.hostnames,
      );
      const byPath = new Map(
        route!.spec.rules.flatMap((r) => r.matches.map((m) => [m.path.value, r] as const)),
      );
      expect([...byPath.keys()].sort()).toEqual(['/', '/admin', '/api', '/widget', '/ws']);
      for (const [p, rule] of byPath) {
        if (p === '/') continue;
        expect(rule.backendRefs).toEqual([{ name: 'gateway', port: 8080 }]);
      }
      expect(byPath.get('/ws')!.timeouts?.request).toBe('0s');
      expect(byPath.get('/')!.filters?.[0]?.type).toBe('RequestRedirect');
      for (const svc of byKind<Service>(objects, 'Service')) {
        expect((svc.spec as { sessionAffinity?: string }).sessionAffinity ?? 'None').toBe('None');
        expect(svc.spec.ports.map((p) => p.port)).toContain(
          8080 + ['gateway', 'chat', 'routing', 'notify'].indexOf(svc.metadata.name),
        );
      }
      if (overlay === 'production') {
        // The route serves HTTPS only; the HTTP listener is there for the ACME challenge.
        expect(route!.spec.parentRefs).toEqual([{ name: 'parley', sectionName: 'https' }]);
        const https = gw!.spec.listeners.find((l) => l.protocol === 'HTTPS');
        expect(https?.tls).toBeDefined();
        expect(gw!.metadata.annotations?.['cert-manager.io/cluster-issuer']).toBeTruthy();
      }
    });

    it('lets nothing reach a Parley pod but the edge (gateway only), the gateway (chat) and Prometheus', () => {
      const policies = byKind<NetworkPolicy>(objects, 'NetworkPolicy');
      const deny = policies.find(
        (p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress,
      );
      expect(deny, 'a default-deny ingress policy').toBeDefined();
      const edge = policies.find((p) =>
        (p.spec.ingress ?? []).some((r) =>
          r.from.some((f) => JSON.stringify(f.namespaceSelector ?? {}).includes('parley.io/edge')),
        ),
      );
      expect(edge?.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'gateway' });
      const readme = readFileSync(path.join(repoRoot, 'deploy/README.md'), 'utf8');
      expect(readme).toContain('parley.io/edge=true');
      // The chat service's internal attachment HTTP is reachable from gateway pods only.
      const chat = deployments.find((d) => d.metadata.name === 'chat')!;
      const gateway = deployments.find((d) => d.metadata.name === 'gateway')!;
      const policy = policies.find(
        (p) =>
          p.spec.podSelector.matchLabels?.['app.kubernetes.io/name'] === 'chat' &&
          selects(p.spec.podSelector.matchLabels, chat.spec.template.metadata.labels),
      );
      expect(policy, 'NetworkPolicy for chat').toBeDefined();
      const podPeers = (policy!.spec.ingress ?? [])
        .flatMap((rule) => rule.from)
        .filter((peer) => peer.podSelector);
      expect(podPeers).toHaveLength(1);
      expect(
        selects(podPeers[0]!.podSelector!.matchLabels, gateway.spec.template.metadata.labels),
      ).toBe(true);
      // The gateway trusts X-Forwarded-For only because it sits behind the edge: one hop.
      const gw = configMaps.find((m) => m.metadata.name.startsWith('parley-gateway'));
      expect(gw?.data?.TRUST_PROXY_HOPS).toBe('1');
    });
  });
}

describe('optional components (deploy/components) on the production overlay', () => {
  /** The production overlay as an operator would edit it: with `components:` added. */
  const withComponents = (components: string[]) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-kustomize-'));
    const rel = (p: string) => path.relative(dir, path.join(repoRoot, 'deploy', p));
    const overlay = readFileSync(
      path.join(repoRoot, 'deploy/overlays/production/kustomization.yaml'),
      'utf8',
    ).replace('  - ../../base', `  - ${rel('base')}`);
    writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      [overlay, 'components:', ...components.map((c) => `  - ${rel(`components/${c}`)}`)].join(
        '\n',
      ),
    );
    try {
      return kustomize(dir, { anyPath: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('connections-hpa: the gateway also scales on a connection gauge the gateway exports, scraped by a PodMonitor', async () => {
    const objects = withComponents(['connections-hpa']);
    expect(await validateK8sObjects(objects)).toEqual([]);
    const hpa = byKind<Hpa>(objects, 'HorizontalPodAutoscaler').find(
      (h) => h.spec.scaleTargetRef.name === 'gateway',
    )!;
    const pods = hpa.spec.metrics.find((m) => m.type === 'Pods');
    const gatewaySource = readdirSync(path.join(repoRoot, 'services/gateway/src'), {
      recursive: true,
      encoding: 'utf8',
    })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(path.join(repoRoot, 'services/gateway/src', f), 'utf8'))
      .join('\n');
    expect(gatewaySource).toContain(`'${pods!.pods!.metric.name}'`);
    expect(byKind(objects, 'PodMonitor')).toHaveLength(1);
    const adapter = readFileSync(
      path.join(repoRoot, 'deploy/helm-values/prometheus-adapter.yaml'),
      'utf8',
    );
    expect(adapter).toContain(pods!.pods!.metric.name);
  });

  it('ingress-nginx: the Ingress with one-hour WebSocket timeouts, the host and TLS from the overlay', async () => {
    const objects = withComponents(['ingress-nginx']);
    expect(await validateK8sObjects(objects)).toEqual([]);
    const [ingress] = byKind<Ingress>(objects, 'Ingress');
    const a = ingress!.metadata.annotations ?? {};
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(
      3600,
    );
    expect(Object.keys(a).filter((k) => /affinity|sticky/i.test(k))).toEqual([]);
    const paths = ingress!.spec.rules.flatMap((r) => r.http.paths);
    expect(paths.map((p) => p.path).sort()).toEqual(['/admin', '/api', '/widget', '/ws']);
    expect(ingress!.spec.rules[0]!.host).toBe('chat.example.com');
    expect(ingress!.spec.tls?.length).toBeGreaterThan(0);
  });
});

describe('the stores namespace (deploy/infra)', () => {
  it('lets only Parley pods reach NATS, MongoDB and Redis, and is schema-valid', async () => {
    const objects = yamlObjects(
      readFileSync(path.join(repoRoot, 'deploy/infra/network-policies.yaml'), 'utf8'),
    );
    expect(await validateK8sObjects(objects)).toEqual([]);
    const [policy] = byKind<NetworkPolicy>(objects, 'NetworkPolicy');
    expect(policy!.metadata.namespace).toBe('parley-infra');
    expect(policy!.spec.podSelector).toEqual({});
    const fromParley = policy!.spec.ingress!.find((r) =>
      r.from.some((f) => f.podSelector?.matchLabels?.['app.kubernetes.io/part-of'] === 'parley'),
    );
    expect(fromParley).toBeDefined();
  });
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

  it('NATS: every service its own user, passwords from a Secret, no max_payload string', () => {
    const v = load('helm-values/nats.yaml');
    const users = at(v, 'config.merge.authorization.users') as Array<{ user: string }>;
    expect(users.map((u) => u.user).sort()).toEqual([...natsServices].sort());
    expect(at(v, 'config.merge.max_payload')).toBeUndefined();
  });

  it('Redis: AOF persistence on a volume, a password, and a maxmemory below the limit', () => {
    const v = load('helm-values/redis.yaml');
    expect(at(v, 'externalConfig.data')).toMatch(/appendonly yes/);
    // The chart reads the password here (a top-level redisSecret is silently ignored).
    expect(at(v, 'redisStandalone.redisSecret')).toEqual({
      secretName: 'redis-auth',
      secretKey: 'password',
    });
    expect(at(v, 'redisSecret')).toBeUndefined();
    const maxmemory = Number(
      /^maxmemory (\d+)mb$/m.exec(String(at(v, 'externalConfig.data')))?.[1],
    );
    const limit =
      Number(/^(\d+)Gi$/.exec(String(at(v, 'redisStandalone.resources.limits.memory')))?.[1]) *
      1024;
    expect(maxmemory).toBeGreaterThan(0);
    expect(maxmemory).toBeLessThan(limit);
    expect(at(v, 'storageSpec.volumeClaimTemplate.spec.resources.requests.storage')).toBeTruthy();
    expect(at(v, 'redisStandalone.tag')).not.toBe('latest');
  });
});
