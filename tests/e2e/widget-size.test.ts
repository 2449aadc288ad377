/** The widget's size budget: loader + first load under 60 KB gzipped (README, "Embed the widget"). */
import path from 'node:path';
import { expect, test } from 'vitest';
import { repoRoot } from '@parley/runtime/testing';
import { buildApp } from '../../scripts/lib/apps.ts';
import { measureWidget } from '../../scripts/lib/widget-size.ts';

test('loader + the widget first load stay under 60 KB gzipped', () => {
  buildApp(repoRoot, 'widget', { ifMissing: true });
  const { files, totalGzip } = measureWidget(path.join(repoRoot, 'frontends', 'widget', 'build'));
  // The measurement must have found the app itself, not only the loader.
  expect(files.some((f) => /nodes\/2\./.test(f.file))).toBe(true);
  expect(files.some((f) => f.file === 'loader.js')).toBe(true);
  expect(totalGzip).toBeLessThan(60_000);
}, 300_000);
