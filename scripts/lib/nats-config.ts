/**
 * NATS server configuration rendered from the contracts' permission table, for every place that
 * runs NATS: compose (deploy/compose/nats-auth.conf), the Helm chart values
 * (deploy/helm-values/nats.yaml), `npm start` and the test stack. Passwords never appear in
 * the output: each user's password is the server's environment variable
 * NATS_PASSWORD_<SERVICE> (the same variable the service itself reads as NATS_PASSWORD).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import {
  natsPasswordVar,
  natsPermissions,
  natsServices,
  type NatsService,
} from '@parley/contracts/nats-permissions';

const quote = (s: string) => JSON.stringify(s);

/** The `authorization { users = [...] }` block of a nats.conf. */
export function renderNatsAuthorization(): string {
  const users = natsServices.map((service) => {
    const p = natsPermissions(service);
    const list = (xs: string[]) => xs.map((x) => `          ${quote(x)}`).join('\n');
    return [
      `    {`,
      `      user: ${service}`,
      `      password: $${natsPasswordVar(service)}`,
      `      permissions: {`,
      `        publish: { allow: [`,
      list(p.publish.allow),
      `        ] }`,
      `        subscribe: { allow: [`,
      list(p.subscribe.allow),
      `        ] }`,
      `        allow_responses: ${String(p.allow_responses)}`,
      `      }`,
      `    }`,
    ].join('\n');
  });
  return [
    '# Generated from contracts/src/nats-permissions.ts by `npm run nats:config`: do not edit.',
    '# One user per Parley service; each password comes from the server environment variable',
    '# NATS_PASSWORD_<SERVICE>.',
    'authorization {',
    '  users = [',
    users.join('\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
}

/**
 * The chart's `config.merge.authorization` value: the chart writes merge values into nats.conf
 * as JSON, and `<< … >>` marks a value it writes unquoted (here: the environment variable).
 */
export function helmNatsAuthorization() {
  return {
    users: natsServices.map((service) => ({
      user: service,
      password: `<< $${natsPasswordVar(service)} >>`,
      permissions: natsPermissions(service),
    })),
  };
}

/** The chart's `container.env`: each password from the parley-nats-users Secret. */
export function helmNatsEnv() {
  return Object.fromEntries(
    natsServices.map((service) => [
      natsPasswordVar(service),
      { valueFrom: { secretKeyRef: { name: 'parley-nats-users', key: service } } },
    ]),
  );
}

/**
 * A NATS password: nats-server parses an environment variable's value like a config value, so
 * it must start with a letter (a leading digit makes it a number) and stay alphanumeric.
 */
export function generateNatsPassword(): string {
  return `n${randomBytes(24).toString('hex')}`;
}

/** A fresh password per service (the test stack). */
export function generateNatsPasswords(): Record<NatsService, string> {
  return Object.fromEntries(natsServices.map((s) => [s, generateNatsPassword()])) as Record<
    NatsService,
    string
  >;
}

/** The server environment that fills the `$NATS_PASSWORD_<SERVICE>` references. */
export function natsServerEnv(passwords: Record<NatsService, string>): Record<string, string> {
  return Object.fromEntries(natsServices.map((s) => [natsPasswordVar(s), passwords[s]]));
}

export const composeAuthFile = 'deploy/compose/nats-auth.conf';
export const helmValuesFile = 'deploy/helm-values/nats.yaml';

/** deploy/helm-values/nats.yaml with the generated users and env (comments kept). */
export function renderHelmValues(root: string): string {
  const doc = parseDocument(readFileSync(path.join(root, helmValuesFile), 'utf8'));
  doc.setIn(['config', 'merge', 'authorization'], doc.createNode(helmNatsAuthorization()));
  doc.setIn(['container', 'env'], doc.createNode(helmNatsEnv()));
  return doc.toString({ lineWidth: 0 });
}

/**
 * `npm start`'s NATS: the passwords generated once into DATA_DIR/secrets.json (like the other
 * development secrets), the config written next to the JetStream data. Returns the config
 * file, the server's environment, and each service's NATS_USER/NATS_PASSWORD.
 */
export function writeLocalNatsConfig(dataDir: string): {
  file: string;
  serverEnv: Record<string, string>;
  serviceEnv: Record<NatsService, { NATS_USER: string; NATS_PASSWORD: string }>;
} {
  const passwords = Object.fromEntries(
    natsServices.map((s) => [s, storedPassword(dataDir, natsPasswordVar(s))]),
  ) as Record<NatsService, string>;
  const file = path.join(dataDir, 'nats.conf');
  writeFileSync(file, renderNatsAuthorization(), { mode: 0o600 });
  const serviceEnv = Object.fromEntries(
    natsServices.map((s) => [s, { NATS_USER: s, NATS_PASSWORD: passwords[s] }]),
  ) as Record<NatsService, { NATS_USER: string; NATS_PASSWORD: string }>;
  return { file, serverEnv: natsServerEnv(passwords), serviceEnv };
}

/** A password kept in DATA_DIR/secrets.json beside the other development secrets. */
function storedPassword(dataDir: string, name: string): string {
  const file = path.join(dataDir, 'secrets.json');
  const secrets = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>)
    : {};
  const existing = secrets[name];
  if (existing) return existing;
  secrets[name] = generateNatsPassword();
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets[name];
}
