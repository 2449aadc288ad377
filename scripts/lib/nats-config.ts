/**
 * NATS server configuration rendered from the contracts' permission table, for every place that
 * runs NATS: compose (deploy/compose/nats-auth.conf), the Helm chart values
 * (deploy/helm-values/nats.yaml), `npm start` and the test stack. Passwords never appear in
 * the output: each user's password is the server's environment variable
 * NATS_PASSWORD_<SERVICE> (the same variable the service itself reads as NATS_PASSWORD).
 */
import { randomBytes } from 'node:crypto';
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
