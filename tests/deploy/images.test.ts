import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDockerfile, parleyServices, repoRoot, type DockerStage } from './manifests.ts';

const dockerfile = loadDockerfile();
const stage = (name: string): DockerStage => {
  const found = dockerfile.stages.find((s) => s.name === name);
  if (!found) throw new Error(`Dockerfile has no stage "${name}"`);
  return found;
};
const args = (s: DockerStage, keyword: string) =>
  s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** Every workspace folder named by the root package.json globs. */
function workspaceFolders(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    workspaces: string[];
  };
  return pkg.workspaces.flatMap((w) => {
    if (!w.endsWith('/*')) return [w];
    const parent = w.slice(0, -2);
    return readdirSync(path.join(repoRoot, parent), { withFileTypes: true })
      .filter(
        (d) => d.isDirectory() && existsSync(path.join(repoRoot, parent, d.name, 'package.json')),
      )
      .map((d) => `${parent}/${d.name}`);
  });
}

describe('the image recipe (deploy/docker/Dockerfile)', () => {
  it('builds on a pinned Node 24 image, never "latest"', () => {
    const nodeImage = dockerfile.globalArgs.NODE_IMAGE;
    expect(nodeImage).toMatch(/^node:24\.\d+\.\d+-alpine[\d.]*$/);
    const stageNames = new Set(dockerfile.stages.map((s) => s.name));
    for (const s of dockerfile.stages) {
      const from = s.from;
      const known = from === '${NODE_IMAGE}' || from === 'scratch' || stageNames.has(from);
      expect(known, `FROM ${from} must be the pinned NODE_IMAGE, scratch or an earlier stage`).toBe(
        true,
      );
    }
  });

  it('installs with npm ci from the lockfile, production dependencies of the one service only', () => {
    const runs = args(stage('service-deps'), 'RUN').join('\n');
    expect(runs).toContain('npm ci');
    expect(runs).toContain('--omit=dev');
    // The service's manifest declares the shared workspaces it imports; no extra flags that
    // would hide an undeclared one (image-install.test.ts starts each service from this tree).
    expect([...runs.matchAll(/--workspace=(\S+)/g)].map((m) => m[1])).toEqual([
      '@parley/${SERVICE}',
    ]);
    // The runtime stage installs nothing itself: it copies the installed tree.
    expect(args(stage('service'), 'RUN').join('\n')).not.toMatch(/npm (ci|install)/);
  });

  it('copies every workspace manifest before npm ci, so the install matches the lockfile', () => {
    const copied = args(stage('manifests'), 'COPY').join('\n');
    expect(copied).toMatch(/package\.json package-lock\.json/);
    for (const folder of workspaceFolders()) {
      expect(copied, `${folder}/package.json is not copied`).toContain(
        `${folder}/package.json ${folder}/`,
      );
    }
  });

  it('runs a service as a numeric non-root user, with a health check and its entry point', () => {
    const service = stage('service');
    const user = args(service, 'USER').at(-1);
    expect(user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    const health = args(service, 'HEALTHCHECK').join('\n');
    // Healthy = ready, so compose starts dependants only once this service can serve them.
    expect(health).toContain('/readyz');
    expect(health).toContain('HTTP_PORT');
    expect(args(service, 'CMD').at(-1)).toContain('src/index.ts');
    expect(args(service, 'WORKDIR').at(-1)).toBe('/app/services/${SERVICE}');
    expect(args(service, 'ENV').join(' ')).toContain('NODE_ENV=production');
    for (const name of parleyServices) {
      expect(
        existsSync(path.join(repoRoot, 'services', name, 'src', 'index.ts')),
        `${name} entry point`,
      ).toBe(true);
    }
  });

  it('bakes both app builds into the gateway image and points WIDGET_DIST/ADMIN_DIST at them', () => {
    const gateway = stage('gateway');
    expect(gateway.from).toBe('service');
    const copies = args(gateway, 'COPY').join('\n');
    const env = args(gateway, 'ENV').join(' ');
    for (const app of ['widget', 'admin']) {
      expect(copies).toContain(
        `--from=app-build /app/frontends/${app}/build /app/frontends/${app}/build`,
      );
      expect(env).toContain(`/app/frontends/${app}/build`);
    }
    // The app build stage builds with the apps' own npm scripts.
    expect(args(stage('app-build'), 'RUN').join('\n')).toContain(
      'npm run build --workspace=@parley/$app',
    );
    // An app on its own is only static files.
    expect(stage('app').from).toBe('scratch');
  });

  it('keeps secrets, dependencies and build output out of the build context', () => {
    const ignore = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['**/node_modules', '.git', '.env', '.data', '**/build'])
      expect(ignore).toContain(entry);
  });
});
