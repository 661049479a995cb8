import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * Offline, strict schema validation of Kubernetes manifests (Kubernetes 1.35 + the CRD schemas in
 * k8s/crds) through scripts/kubeconform.sh. The first call in a process runs `install` (a one-off
 * `go install` of about a minute on a cold machine, then cached; give that test a long timeout).
 */

const SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'kubeconform.sh');
const MAX_BUFFER = 64 * 1024 * 1024;

interface KubeconformResource {
  filename: string;
  kind: string;
  name: string;
  version: string;
  status: 'statusValid' | 'statusInvalid' | 'statusError' | 'statusSkipped' | string;
  msg: string;
}

interface KubeconformOutput {
  resources: KubeconformResource[];
  summary: { valid: number; invalid: number; errors: number; skipped: number };
}

let installed = false;

function run(args: string[], timeout: number): { stdout: string; stderr: string; status: number } {
  try {
    const stdout = execFileSync('bash', [SCRIPT, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: MAX_BUFFER,
      timeout,
    });
    return { stdout, stderr: '', status: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; status?: number | null; message: string };
    if (typeof err.status !== 'number') throw new Error(`scripts/kubeconform.sh ${args[0]} failed: ${err.message}\n${err.stderr ?? ''}`);
    return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', status: err.status };
  }
}

function ensureInstalled(): void {
  if (installed) return;
  const r = run(['install'], 30 * 60 * 1000);
  if (r.status !== 0) throw new Error(`scripts/kubeconform.sh install failed (exit ${r.status}):\n${r.stderr}`);
  installed = true;
}

/** kubeconform's "jsonschema validation failed with '<schema>' - at '/a': x - at '/a/b': y" as "/a/b: y; ...". */
function readableMessage(r: KubeconformResource): string {
  if (r.status === 'statusSkipped') return 'skipped: not validated against any schema';
  if (r.msg.startsWith('could not find schema for')) {
    return `no schema for ${r.version} ${r.kind} (unknown kind, or an API version Kubernetes 1.35 does not serve and k8s/crds lacks)`;
  }
  const causes = [...r.msg.matchAll(/- at '([^']*)': (.*?)(?=\s+- at '|$)/g)].map((m) => ({
    at: m[1] === '' ? '/' : m[1],
    what: m[2].trim(),
  }));
  const specific = causes.filter((c) => c.what !== 'validation failed');
  const shown = specific.length > 0 ? specific : causes;
  return shown.length > 0 ? shown.map((c) => `${c.at}: ${c.what}`).join('; ') : r.msg;
}

function docName(doc: Record<string, unknown> | undefined, index: number): { kind: string; name: string } {
  const meta = (doc?.metadata ?? {}) as Record<string, unknown>;
  return {
    kind: typeof doc?.kind === 'string' ? doc.kind : '<no kind>',
    name: typeof meta.name === 'string' ? meta.name : `#${index}`,
  };
}

/**
 * Validates `docs` (one Kubernetes object each, e.g. `chart.toJson()`) with kubeconform in strict
 * mode against Kubernetes 1.35 and k8s/crds. A kind or apiVersion without a schema (unknown kind,
 * removed API such as policy/v1beta1) is an error, and so is a skipped resource.
 *
 * @param label names the temp dir and thrown errors (e.g. the chart's name)
 * @returns valid: resources that passed; errors: one "<kind>/<name>: <message>" per resource that
 *   is invalid, errored, was skipped or was not reported at all; kinds: the distinct kinds
 *   kubeconform checked, sorted
 */
export function validateManifests(
  docs: ReadonlyArray<Record<string, unknown>>,
  label?: string,
): { valid: number; errors: string[]; kinds: string[] } {
  ensureInstalled();
  const what = label ?? 'manifests';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kubeconform-${what.replace(/[^A-Za-z0-9_.-]/g, '_')}-`));
  try {
    const files = docs.map((doc, i) => {
      const file = path.join(dir, `${String(i).padStart(4, '0')}.json`);
      fs.writeFileSync(file, JSON.stringify(doc, null, 2));
      return file;
    });
    if (files.length === 0) return { valid: 0, errors: [], kinds: [] };

    const r = run(['validate', '-verbose', dir], 5 * 60 * 1000);
    let out: KubeconformOutput;
    try {
      out = JSON.parse(r.stdout) as KubeconformOutput;
    } catch {
      throw new Error(`kubeconform (${what}) exited ${r.status} without JSON output:\n${r.stdout}\n${r.stderr}`);
    }

    const byFile = new Map<string, KubeconformResource[]>();
    for (const res of out.resources ?? []) {
      byFile.set(res.filename, [...(byFile.get(res.filename) ?? []), res]);
    }
    const errors: string[] = [];
    const kinds = new Set<string>();
    let valid = 0;
    files.forEach((file, i) => {
      const fallback = docName(docs[i], i);
      const results = byFile.get(file) ?? [];
      if (results.length === 0) errors.push(`${fallback.kind}/${fallback.name}: not validated (empty document?)`);
      for (const res of results) {
        if (res.kind) kinds.add(res.kind);
        if (res.status === 'statusValid') {
          valid += 1;
        } else {
          errors.push(`${res.kind || fallback.kind}/${res.name || fallback.name}: ${readableMessage(res)}`);
        }
      }
    });
    if (r.status !== 0 && errors.length === 0) {
      throw new Error(`kubeconform (${what}) exited ${r.status} but reported no failure:\n${r.stdout}\n${r.stderr}`);
    }
    return { valid, errors, kinds: [...kinds].sort() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
