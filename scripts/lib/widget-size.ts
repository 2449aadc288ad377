/**
 * What a visitor's browser downloads before the widget is usable, gzipped (level 9): loader.js plus
 * every file index.html loads at first load — its modulepreloads and entry scripts, the route nodes
 * the kit app loads for a page (root layout + leaf), their CSS, and everything those import
 * statically. Dynamic import()s inside the nodes (lazy features) are not first load.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

interface FileSize {
  file: string;
  bytes: number;
  gzip: number;
}

export interface WidgetSize {
  /** Loader + first load. */
  files: FileSize[];
  totalGzip: number;
  /** Everything else the app may fetch later (panel on first open, other languages, …). */
  later: FileSize[];
}

export function measureWidget(buildDir: string): WidgetSize {
  const index = readFileSync(path.join(buildDir, 'index.html'), 'utf8');
  const base = '/widget/';
  const local = (url: string) => url.replace(base, '');
  const queue: string[] = [];
  for (const m of index.matchAll(/href="([^"]+)" rel="modulepreload"/g)) queue.push(local(m[1]!));
  for (const m of index.matchAll(/import\("([^"]+)"\)/g)) queue.push(local(m[1]!));

  // The kit app module lists the route nodes with their dependency lists (__vite__mapDeps).
  const appFile = queue.find((f) => /entry\/app\.[^/]+\.js$/.test(f));
  if (!appFile) throw new Error('no entry/app.*.js in index.html');
  const app = readFileSync(path.join(buildDir, appFile), 'utf8');
  const depList = JSON.parse(/m\.f=(\[[^\]]*\])/.exec(app)?.[1] ?? '[]') as string[];
  const nodes = [
    ...app.matchAll(/import\(`\.\.\/nodes\/([^`]+)`\),__vite__mapDeps\(\[([\d,]*)\]\)/g),
  ];
  // dictionary: route id → [leaf node, ...]; first load = root layout (node 0) + each route's leaf.
  const dictionary = /\{("[^"]+":\[[-\d,]*\],?)+\}/.exec(app)?.[0] ?? '{}';
  const leaves = Object.values(JSON.parse(dictionary) as Record<string, number[]>).map((r) =>
    Math.abs(r[0]!),
  );
  for (const i of new Set([0, ...leaves])) {
    const node = nodes[i];
    if (!node) throw new Error(`node ${i} not found in ${appFile}`);
    queue.push(path.posix.join(path.posix.dirname(appFile), '../nodes', node[1]!));
    for (const d of node[2]!.split(',').filter(Boolean)) queue.push(local(depList[Number(d)]!));
  }

  const seen = new Set<string>();
  while (queue.length) {
    const file = path.posix.normalize(queue.shift()!);
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.endsWith('.js')) continue;
    const code = readFileSync(path.join(buildDir, file), 'utf8');
    // Static imports only (minified: `import{a as b}from"../chunks/X.js"` or `import"./X.js"`).
    for (const m of code.matchAll(
      /(?:^|[;}\s])(?:import|export)\s*(?:[^'"`();]*?from\s*)?["'](\.\.?\/[^"']+)["']/g,
    ))
      queue.push(path.posix.join(path.posix.dirname(file), m[1]!));
  }
  const loader = 'loader.js';
  if (existsSync(path.join(buildDir, loader))) seen.add(loader);
  const size = (file: string): FileSize => {
    const data = readFileSync(path.join(buildDir, file));
    return { file, bytes: data.length, gzip: gzipSync(data, { level: 9 }).length };
  };
  const files = [...seen].sort().map(size);
  const later = readdirSync(path.join(buildDir, '_app/immutable'), { recursive: true })
    .map((f) => path.posix.join('_app/immutable', String(f)))
    .filter((f) => /\.(js|css)$/.test(f) && !seen.has(f))
    .sort()
    .map(size);
  return { files, totalGzip: files.reduce((sum, f) => sum + f.gzip, 0), later };
}
