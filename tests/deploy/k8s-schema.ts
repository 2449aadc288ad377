/**
 * Validates rendered Kubernetes objects against the Kubernetes OpenAPI schemas as published in
 * the kubernetes-models packages (core API, Gateway API, Prometheus Operator), in two passes:
 * - the package's JSON-schema validator (types, required fields, enums, formats);
 * - the package's TypeScript interfaces, with each object written as an object literal and
 *   type-checked: TypeScript rejects any property the schema does not define, at any depth,
 *   which the API server would otherwise drop or refuse (`kubectl apply --validate=strict`).
 */
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from './manifests.ts';

export interface K8sDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
}

/** Where kubernetes-models keeps the model of an apiVersion. */
function modelModule(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'gateway.networking.k8s.io')
    return `@kubernetes-models/gateway-api/${group}/${version}`;
  if (group === 'monitoring.coreos.com')
    return `@kubernetes-models/prometheus-operator/${group}/${version}`;
  return group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
}

const label = (o: K8sDoc) => `${o.kind}/${o.metadata.name}`;

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

async function schemaErrors(objects: K8sDoc[]): Promise<string[]> {
  const errors: string[] = [];
  for (const o of objects) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(modelModule(o.apiVersion))) as Record<string, unknown>;
    } catch {
      errors.push(`${label(o)}: no schema for apiVersion ${o.apiVersion}`);
      continue;
    }
    const Cls = mod[o.kind] as ModelClass | undefined;
    if (!Cls) {
      errors.push(`${label(o)}: ${o.apiVersion} has no kind ${o.kind}`);
      continue;
    }
    try {
      new Cls(o).validate();
    } catch (err) {
      errors.push(`${label(o)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return errors;
}

function unknownFieldErrors(objects: K8sDoc[]): string[] {
  const lines: string[] = [];
  objects.forEach((o, i) => {
    lines.push(`import type { I${o.kind} as T${i} } from '${modelModule(o.apiVersion)}';`);
  });
  const starts: number[] = [];
  let lineCount = lines.length;
  objects.forEach((o, i) => {
    starts.push(lineCount);
    const literal = `export const o${i}: T${i} = ${JSON.stringify(o, null, 1)};`;
    lines.push(literal);
    lineCount += literal.split('\n').length;
  });
  const text = lines.join('\n');
  const file = path.join(repoRoot, `__k8s_objects_${process.pid}.ts`);
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) =>
    name === file
      ? ts.createSourceFile(name, text, lang)
      : getSourceFile(name, lang, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === file ? text : readFile(name));
  const program = ts.createProgram([file], options, host);
  const textLines = text.split('\n');
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return message;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const index = starts.findLastIndex((s) => s <= line);
    const where = index >= 0 ? label(objects[index]!) : '(imports)';
    return `${where}: ${message.split('\n').at(-1)} (at ${textLines[line]?.trim()})`;
  });
}

/**
 * Secret data as the API server reads it: kubectl wraps long base64 values over several
 * lines, and the server's base64 decoder skips line breaks (the JSON schema's "byte" format
 * does not).
 */
function asServerReads(o: K8sDoc): K8sDoc {
  if (o.kind !== 'Secret') return o;
  const data = (o as { data?: Record<string, string> }).data;
  if (!data) return o;
  return {
    ...o,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.replace(/\s/g, '')])),
  } as K8sDoc;
}

/** Every schema violation and every field the schemas do not know, as readable lines. */
export async function validateK8sObjects(objects: K8sDoc[]): Promise<string[]> {
  const docs = objects.map(asServerReads);
  return [...(await schemaErrors(docs)), ...unknownFieldErrors(docs)];
}
