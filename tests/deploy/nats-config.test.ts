/**
 * Every NATS server config Parley ships is accepted by `nats-server -t` (which checks value
 * types too): compose's nats.conf with its generated users, the config the Helm chart renders
 * from our values, and the one `npm start` writes. The generated files are up to date.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  composeAuthFile,
  generateNatsPasswords,
  helmValuesFile,
  natsServerEnv,
  renderHelmValues,
  renderNatsAuthorization,
  writeLocalNatsConfig,
} from '../../scripts/lib/nats-config.ts';
import { repoRoot } from './manifests.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'parley-nats-conf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const serverEnv = natsServerEnv(generateNatsPasswords());

/**
 * Options newer than the nats-server installed here (Debian's 2.9); compose and the chart run
 * 2.12, which knows them. They are removed from the copy checked here, and only they are.
 */
const newerThanLocalServer = ['sync_interval'];
const localVersion = spawnSync('nats-server', ['--version'], { encoding: 'utf8' }).stdout.trim();

function check(file: string, env: Record<string, string> = serverEnv) {
  const r = spawnSync('nats-server', ['-t', '-c', file], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

describe('NATS configs', () => {
  it('the generated users in compose and the Helm values match contracts/src/nats-permissions.ts', () => {
    const stale = 'is stale: run `npm run nats:config`';
    expect(
      readFileSync(path.join(repoRoot, composeAuthFile), 'utf8'),
      `${composeAuthFile} ${stale}`,
    ).toBe(renderNatsAuthorization());
    expect(
      readFileSync(path.join(repoRoot, helmValuesFile), 'utf8'),
      `${helmValuesFile} ${stale}`,
    ).toBe(renderHelmValues(repoRoot));
  });

  it("compose's nats.conf (with nats-auth.conf) passes nats-server -t", () => {
    let conf = readFileSync(path.join(repoRoot, 'deploy/compose/nats.conf'), 'utf8');
    if (localVersion.includes('v2.9.')) {
      for (const key of newerThanLocalServer) {
        expect(conf).toMatch(new RegExp(`^\\s*${key}:`, 'm'));
        conf = conf.replace(new RegExp(`^\\s*${key}:.*$`, 'm'), '');
        console.log(`nats.conf: ${key} (NATS 2.10+) left out for the local ${localVersion}`);
      }
    }
    const dir = mkdtempSync(path.join(tmp, 'compose-'));
    writeFileSync(
      path.join(dir, 'nats.conf'),
      conf.replace('store_dir: /data', `store_dir: ${dir}`),
    );
    copyFileSync(path.join(repoRoot, composeAuthFile), path.join(dir, 'nats-auth.conf'));
    const r = check(path.join(dir, 'nats.conf'));
    expect(r.out).toContain('is valid');
    // Without the passwords in its environment the server refuses to start.
    const noEnv = spawnSync('nats-server', ['-t', '-c', path.join(dir, 'nats.conf')], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(`${noEnv.stderr}`).toMatch(/NATS_PASSWORD_\w+/);
  });

  it('the config the NATS chart renders from our values passes nats-server -t', () => {
    // The chart (2.x) writes its own settings, then `config.merge`, as JSON into nats.conf, and
    // writes `"<< x >>"` values unquoted. This does the same with the chart's base settings.
    const values = parseYaml(readFileSync(path.join(repoRoot, helmValuesFile), 'utf8')) as {
      config: { merge: Record<string, unknown> };
      container: { env: Record<string, unknown> };
    };
    const dir = mkdtempSync(path.join(tmp, 'helm-'));
    const rendered = {
      port: 4222,
      http_port: 8222,
      server_name: 'nats-0',
      lame_duck_duration: '30s',
      lame_duck_grace_period: '10s',
      pid_file: path.join(dir, 'nats.pid'),
      jetstream: { max_file_store: 10 * 1024 ** 3, store_dir: dir },
      ...values.config.merge,
    };
    const text = JSON.stringify(rendered, null, 2).replace(/"<< (.+?) >>"/g, '$1');
    writeFileSync(path.join(dir, 'nats.conf'), text);
    // The chart's env names the variables the config refers to.
    for (const name of Object.keys(serverEnv)) expect(values.container.env).toHaveProperty(name);
    expect(check(path.join(dir, 'nats.conf')).out).toContain('is valid');
  });

  it("`npm start`'s config passes nats-server -t, with passwords kept in the data folder", () => {
    const dataDir = mkdtempSync(path.join(tmp, 'data-'));
    const first = writeLocalNatsConfig(dataDir);
    expect(check(first.file, first.serverEnv).out).toContain('is valid');
    const again = writeLocalNatsConfig(dataDir);
    expect(again.serviceEnv).toEqual(first.serviceEnv);
    expect(first.serviceEnv.chat.NATS_USER).toBe('chat');
    expect(JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8'))).toHaveProperty(
      'NATS_PASSWORD_CHAT',
      first.serviceEnv.chat.NATS_PASSWORD,
    );
  });
});
