/**
 * `npm run nats:config`: writes the NATS users and permissions (from
 * contracts/src/nats-permissions.ts) into deploy/compose/nats-auth.conf and the Helm values
 * deploy/helm-values/nats.yaml. tests/deploy/nats-config.test.ts fails when they are stale.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  composeAuthFile,
  helmValuesFile,
  renderHelmValues,
  renderNatsAuthorization,
} from './lib/nats-config.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(path.join(root, composeAuthFile), renderNatsAuthorization());
writeFileSync(path.join(root, helmValuesFile), renderHelmValues(root));
console.log(`wrote ${composeAuthFile} and ${helmValuesFile}`);
