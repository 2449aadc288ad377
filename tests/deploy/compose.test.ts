import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { loadSchemas, type ServiceName } from '../../scripts/gen-config-docs.ts';
import { infraServices, loadCompose, parleyServices, repoRoot } from './manifests.ts';

const { text, compose } = loadCompose();
let schemas: Record<ServiceName, z.ZodObject>;
beforeAll(async () => {
  schemas = await loadSchemas();
});

const svc = (name: string) => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
};
const schemaDefault = (name: ServiceName, key: string): unknown => {
  const field = schemas[name].shape[key] as z.ZodType | undefined;
  return field?.safeParse(undefined).data;
};

describe('docker-compose.yml', () => {
  it('has exactly the four services and NATS, MongoDB and Redis', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [...parleyServices, ...infraServices].sort(),
    );
  });

  it('builds each service from the shared Dockerfile with its own name and port', () => {
    for (const name of parleyServices) {
      const s = svc(name);
      expect(s.build?.dockerfile).toBe('deploy/docker/Dockerfile');
      expect(s.build?.context).toBe('.');
      expect(s.build?.target).toBe(name === 'gateway' ? 'gateway' : 'service');
      expect(s.build?.args?.SERVICE).toBe(name);
      // The port the image exposes and health-checks is the one the service listens on.
      expect(Number(s.build?.args?.HTTP_PORT)).toBe(schemaDefault(name, 'HTTP_PORT'));
      expect(Number(s.environment?.HTTP_PORT)).toBe(schemaDefault(name, 'HTTP_PORT'));
    }
  });

  it("sets only environment names that the service's config schema knows", () => {
    for (const name of parleyServices) {
      const keys = Object.keys(schemas[name].shape);
      for (const env of Object.keys(svc(name).environment ?? {})) {
        expect(keys, `${name}: ${env} is not in services/${name}/src/config.ts`).toContain(env);
      }
    }
  });

  it('runs the services in production mode against MongoDB (replica set), NATS and Redis', () => {
    for (const name of parleyServices) {
      expect(svc(name).environment?.NODE_ENV).toBe('production');
      expect(svc(name).environment?.NATS_URL).toBe('nats://nats:4222');
    }
    // Authenticated: the `parley` user (created by deploy/compose/mongo-init.js), the Redis password.
    const mongoUrl =
      /^mongodb:\/\/parley:\$\{MONGO_PARLEY_PASSWORD:\?[^}]+\}@mongo:27017\/parley\?replicaSet=rs0&authSource=parley$/;
    expect(String(svc('chat').environment?.MONGO_URL)).toMatch(mongoUrl);
    expect(String(svc('notify').environment?.MONGO_URL)).toMatch(mongoUrl);
    for (const name of ['routing', 'gateway']) {
      expect(String(svc(name).environment?.REDIS_URL)).toMatch(
        /^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379$/,
      );
    }
    // Each service connects to NATS as its own user.
    for (const name of parleyServices) {
      expect(svc(name).environment?.NATS_USER).toBe(name);
      expect(String(svc(name).environment?.NATS_PASSWORD)).toMatch(
        new RegExp(`^\\$\\{NATS_PASSWORD_${name.toUpperCase()}:\\?`),
      );
      expect(String(svc('nats').environment?.[`NATS_PASSWORD_${name.toUpperCase()}`])).toBe(
        String(svc(name).environment?.NATS_PASSWORD),
      );
    }
    expect(svc('gateway').environment?.CHAT_INTERNAL_URL).toBe(
      `http://chat:${String(schemaDefault('chat', 'HTTP_PORT'))}`,
    );
  });

  it('gives every service the secrets its production mode requires', () => {
    for (const name of parleyServices) {
      const required = Object.keys(schemas[name].shape).filter((k) =>
        /_SECRET$|^ADMIN_(EMAIL|PASSWORD)$/.test(k),
      );
      for (const key of required) {
        // Set from .env with a clear error when missing: ${KEY:?message}.
        expect(String(svc(name).environment?.[key]), `${name}: ${key}`).toMatch(
          new RegExp(`^\\$\\{${key}:\\?.+\\}$`),
        );
      }
    }
  });

  it('publishes one entry point, the gateway, on loopback by default', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'gateway')
        expect(s.ports).toEqual(['${PARLEY_HTTP_BIND:-127.0.0.1}:${PARLEY_HTTP_PORT:-8080}:8080']);
      else expect(s.ports, `${name} must not publish a port`).toBeUndefined();
    }
  });

  it('starts nothing before what it needs is healthy, and every infrastructure service has a health check', () => {
    for (const name of infraServices)
      expect(svc(name).healthcheck?.test, `${name} healthcheck`).toBeDefined();
    for (const name of parleyServices) {
      const deps = svc(name).depends_on ?? {};
      expect(Object.keys(deps)).toContain('nats');
      for (const [dep, cond] of Object.entries(deps)) {
        expect(cond.condition, `${name} → ${dep}`).toBe('service_healthy');
      }
    }
  });

  it('keeps NATS JetStream, MongoDB and Redis data on named volumes, with the durability settings documented', () => {
    expect(svc('nats').volumes).toContain('nats-data:/data');
    expect(svc('mongo').volumes).toContain('mongo-data:/data/db');
    expect(svc('redis').volumes).toContain('redis-data:/data');
    const natsConf = readFileSync(path.join(repoRoot, 'deploy/compose/nats.conf'), 'utf8');
    expect(natsConf).toMatch(/jetstream\s*\{[^}]*store_dir:\s*\/data/s);
    expect(natsConf).toMatch(/sync_interval:\s*always/);
    const mongod = (svc('mongo').entrypoint as string[]).join(' ');
    expect(mongod).toMatch(/mongod --replSet rs0 .*--keyFile \/etc\/mongo-keyfile/);
    const redis = (svc('redis').command as string[]).join(' ');
    expect(redis).toContain('--appendonly yes');
    expect(redis).toContain('--requirepass "$$REDIS_PASSWORD"');
    // A memory cap below the container's limit, so Redis refuses writes before it is killed.
    const maxmemory = Number(/--maxmemory (\d+)mb/.exec(redis)?.[1]) * 1024 ** 2;
    expect(maxmemory).toBeLessThan(
      Number(/^(\d+)m$/.exec(String(svc('redis').mem_limit))?.[1]) * 1024 ** 2,
    );
    expect(redis).toContain('--maxmemory-policy noeviction');
  });

  it('hands each container only the secrets it needs, never the whole .env', () => {
    const secretVars = [
      ...text.matchAll(/\$\{([A-Z][A-Z0-9_]*(?:SECRET|PASSWORD|KEY)[A-Z0-9_]*)/g),
    ];
    expect(secretVars.length).toBeGreaterThan(0);
    for (const [name, s] of Object.entries(compose.services)) {
      for (const file of s.env_file ?? []) {
        const p = typeof file === 'string' ? file : file.path;
        expect(p, `${name} env_file`).not.toBe('.env');
      }
    }
    const users = (secret: string) =>
      Object.entries(compose.services)
        .filter(([, s]) => JSON.stringify(s.environment ?? {}).includes(`\${${secret}`))
        .map(([n]) => n)
        .sort();
    expect(users('AUTH_TOKEN_SECRET')).toEqual(['gateway']);
    expect(users('ADMIN_PASSWORD')).toEqual(['chat']);
    expect(users('MONGO_PARLEY_PASSWORD')).toEqual(['chat', 'mongo', 'notify']);
    expect(users('NATS_PASSWORD_CHAT')).toEqual(['chat', 'nats']);
  });

  it('rotates logs and limits memory for every container', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.logging?.options?.['max-size'], `${name} log rotation`).toBeDefined();
      expect(s.mem_limit, `${name} mem_limit`).toMatch(/^\d+[mg]$/);
    }
  });

  it("sizes the chat container's /data for concurrent uploads", () => {
    expect(svc('chat').tmpfs).toContain('/data:size=1g');
  });

  it('runs services read-only, with a stop grace period longer than the drain limit', () => {
    for (const name of parleyServices) {
      const s = svc(name);
      expect(s.read_only).toBe(true);
      expect(s.tmpfs).toContain('/tmp');
      const graceMs = Number(/^(\d+)s$/.exec(s.stop_grace_period ?? '')?.[1]) * 1000;
      expect(graceMs).toBeGreaterThan(Number(schemaDefault(name, 'SHUTDOWN_TIMEOUT_MS')));
    }
  });

  it('pins every image tag (no "latest")', () => {
    // Images may take their tag from .env with a default (${PARLEY_VERSION:-0.1.0}).
    const resolved = (image = '') => image.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
    for (const [name, s] of Object.entries(compose.services)) {
      const image = resolved(s.image);
      expect(image, `${name} image`).toMatch(/^[\w./-]+:[\w][\w.-]*$/);
      expect(image).not.toMatch(/:latest$/);
    }
  });

  it('reads every interpolated variable from .env.example', () => {
    const example = readFileSync(path.join(repoRoot, '.env.example'), 'utf8');
    const listed = new Set([...example.matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    for (const [, name] of text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)) {
      expect(listed, `${name} is used in docker-compose.yml but not in .env.example`).toContain(
        name,
      );
    }
  });

  it('is accepted by `docker compose config` where Docker Compose is installed', (ctx) => {
    const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.log(
        'docker compose config skipped: Docker Compose is not installed here (the file is checked by parsing)',
      );
      ctx.skip();
      return;
    }
    const out = execFileSync('docker', ['compose', '-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: {
        ...process.env,
        AUTH_TOKEN_SECRET: 'x',
        IDENTITY_HMAC_SECRET: 'x',
        UNSUBSCRIBE_SECRET: 'x',
        ADMIN_EMAIL: 'a@b.c',
        ADMIN_PASSWORD: 'x',
        PUBLIC_URL: 'https://chat.example.com',
        NATS_PASSWORD_GATEWAY: 'x',
        NATS_PASSWORD_CHAT: 'x',
        NATS_PASSWORD_ROUTING: 'x',
        NATS_PASSWORD_NOTIFY: 'x',
        MONGO_ROOT_PASSWORD: 'x',
        MONGO_PARLEY_PASSWORD: 'x',
        MONGO_REPLICA_KEY: 'x',
        REDIS_PASSWORD: 'x',
      },
    });
    expect(out).toBe('');
  });
});
