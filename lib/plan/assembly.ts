import * as fs from 'fs';
import * as path from 'path';

/** A problem with the plan's input (no assembly, a template it cannot read, an unknown env): the message says what to do. */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/** One resource of a synthesized template. */
export interface TemplateResource {
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Record<string, any>;
  /** The construct path (`aws:cdk:path` metadata), or the logical id. */
  readonly path: string;
  /** Logical ids in the same template this resource waits for (Ref, GetAtt, Sub, DependsOn). */
  readonly dependsOn: string[];
}

/** An asset `cdk deploy` publishes before the stack. */
export interface StackAsset {
  readonly kind: 'file' | 'docker';
  /** Bytes of a file asset (0 when not staged). */
  readonly bytes: number;
}

export interface AssemblyStack {
  readonly name: string;
  readonly region: string;
  /** Stacks (of this assembly) that deploy first. */
  readonly dependencies: string[];
  readonly templateFile: string;
  readonly resources: TemplateResource[];
  readonly assets: StackAsset[];
}

export interface Assembly {
  readonly directory: string;
  readonly stacks: AssemblyStack[];
}

const readJson = (file: string, what: string): any => {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PlanError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new PlanError(`cannot parse ${what} ${file}: ${(e as Error).message}; synthesize again (npx cdk synth -c env=ENV)`);
  }
};

/** Logical ids an expression points at: Ref, Fn::GetAtt, ${Name} in Fn::Sub. */
function referencedIds(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) referencedIds(v, into);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string') into.add(v);
      else if (k === 'Fn::GetAtt') into.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]);
      else if (k === 'Fn::Sub') {
        const s = Array.isArray(v) ? v[0] : v;
        if (typeof s === 'string') for (const m of s.matchAll(/\$\{([A-Za-z0-9]+)(\.[^}]*)?\}/g)) into.add(m[1]);
        if (Array.isArray(v)) referencedIds(v[1], into);
      } else referencedIds(v, into);
    }
  }
}

/** Reads a CloudFormation template into resources with their in-template dependencies. */
export function readTemplate(file: string): TemplateResource[] {
  const template = readJson(file, 'template');
  if (!template || typeof template !== 'object' || typeof template.Resources !== 'object' || template.Resources === null) {
    throw new PlanError(`cannot parse template ${file}: no Resources section`);
  }
  const ids = new Set(Object.keys(template.Resources));
  return Object.entries<any>(template.Resources).map(([logicalId, r]) => {
    if (!r || typeof r.Type !== 'string') throw new PlanError(`cannot parse template ${file}: resource ${logicalId} has no Type`);
    const refs = new Set<string>();
    referencedIds(r.Properties ?? {}, refs);
    const explicit = r.DependsOn === undefined ? [] : Array.isArray(r.DependsOn) ? r.DependsOn : [r.DependsOn];
    for (const d of explicit) refs.add(String(d));
    return {
      logicalId,
      type: r.Type,
      properties: r.Properties ?? {},
      path: r.Metadata?.['aws:cdk:path'] ?? logicalId,
      dependsOn: [...refs].filter((d) => d !== logicalId && ids.has(d)).sort(),
    };
  });
}

function readAssets(directory: string, file: string | undefined): StackAsset[] {
  if (!file || !fs.existsSync(path.join(directory, file))) return [];
  const manifest = readJson(path.join(directory, file), 'asset manifest');
  const sizeOf = (p: string): number => {
    const full = path.resolve(directory, p);
    if (!fs.existsSync(full)) return 0;
    const stat = fs.statSync(full);
    if (stat.isFile()) return stat.size;
    return fs.readdirSync(full).reduce((sum, f) => sum + sizeOf(path.join(p, f)), 0);
  };
  const files = Object.values<any>(manifest.files ?? {})
    // The template itself is uploaded too, but it is small and counted in the per-stack minutes.
    .filter((a) => !String(a.source?.path ?? '').endsWith('.template.json'))
    .map((a): StackAsset => ({ kind: 'file', bytes: a.source?.path ? sizeOf(a.source.path) : 0 }));
  const images = Object.values<any>(manifest.dockerImages ?? {}).map((): StackAsset => ({ kind: 'docker', bytes: 0 }));
  return [...files, ...images];
}

/**
 * Reads a cloud assembly (`cdk.out`): every CloudFormation stack with its region, the stacks it
 * depends on, its resources and its assets. Throws a PlanError naming the file when something is
 * missing or unreadable.
 */
export function readAssembly(directory: string): Assembly {
  const manifestFile = path.join(directory, 'manifest.json');
  if (!fs.existsSync(manifestFile)) {
    throw new PlanError(`no cloud assembly at ${directory} (no manifest.json): synthesize first (npx cdk synth -c env=ENV), or let npm run plan synthesize (drop --no-synth)`);
  }
  const manifest = readJson(manifestFile, 'assembly manifest');
  const artifacts: Record<string, any> = manifest.artifacts ?? {};
  const stackEntries = Object.entries(artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  if (stackEntries.length === 0) throw new PlanError(`the cloud assembly at ${directory} has no CloudFormation stack`);
  const names = new Set(stackEntries.map(([n]) => n));
  const stacks = stackEntries.map(([name, a]): AssemblyStack => {
    const templateFile = a.properties?.templateFile;
    if (!templateFile) throw new PlanError(`stack ${name} in ${manifestFile} names no template file`);
    const assetArtifact = (a.dependencies ?? []).map((d: string) => artifacts[d]).find((d: any) => d?.type === 'cdk:asset-manifest');
    return {
      name,
      region: String(a.environment ?? '').split('/').pop() ?? 'unknown',
      // Dependencies name asset-manifest artifacts too; keep the stack-to-stack edges.
      dependencies: (a.dependencies ?? []).filter((d: string) => names.has(d)).sort(),
      templateFile,
      resources: readTemplate(path.join(directory, templateFile)),
      assets: readAssets(directory, assetArtifact?.properties?.file),
    };
  });
  return { directory, stacks: stacks.sort((x, y) => x.name.localeCompare(y.name)) };
}
