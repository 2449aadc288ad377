/**
 * `npm run widget:size`: what a host page's visitor downloads for the widget before opening it,
 * gzipped at level 9 (see scripts/lib/widget-size.ts), from frontends/widget/build (build it first).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureWidget } from './lib/widget-size.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { files, totalGzip, later } = measureWidget(path.join(root, 'frontends', 'widget', 'build'));
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
for (const f of files)
  console.log(`${f.file.padEnd(48)} ${kb(f.bytes).padStart(9)} ${kb(f.gzip).padStart(9)} gz`);
console.log(
  `${'total (loader + first load)'.padEnd(48)} ${''.padStart(9)} ${kb(totalGzip).padStart(9)} gz`,
);
console.log('\nloaded later, when needed:');
for (const f of later)
  console.log(`${f.file.padEnd(48)} ${kb(f.bytes).padStart(9)} ${kb(f.gzip).padStart(9)} gz`);
