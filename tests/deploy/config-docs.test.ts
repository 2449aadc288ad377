import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeSchema,
  loadSchemas,
  outputs,
  repoRoot,
  serviceNames,
} from '../../scripts/gen-config-docs.ts';

describe('settings documentation generated from the config schemas', async () => {
  const schemas = await loadSchemas();

  it.each(Object.entries(outputs))(
    '%s is up to date (node scripts/gen-config-docs.ts)',
    (file, render) => {
      expect(readFileSync(path.join(repoRoot, file), 'utf8')).toBe(render(schemas));
    },
  );

  it('documents every key of every service, each with a description', () => {
    const doc = readFileSync(path.join(repoRoot, 'docs/config.md'), 'utf8');
    for (const name of serviceNames) {
      for (const setting of describeSchema(schemas[name])) {
        expect(setting.description.length, `${name}.${setting.name}`).toBeGreaterThan(0);
        expect(doc).toContain(`| \`${setting.name}\` |`);
      }
    }
  });

  it('lists in .env.example or parley.env.example every setting a service reads', () => {
    const example = ['.env.example', 'parley.env.example']
      .map((f) => readFileSync(path.join(repoRoot, f), 'utf8'))
      .join('\n');
    for (const name of serviceNames) {
      for (const key of Object.keys(schemas[name].shape))
        expect(example, key).toMatch(new RegExp(`^#? ?${key}[=:]`, 'm'));
    }
  });
});
