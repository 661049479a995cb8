import { AssemblyStack, PlanError, TemplateResource } from './assembly';
import DURATIONS from './durations.json';

/** The checked-in table of create times (lib/plan/durations.json). */
export type DurationTable = typeof DURATIONS;
export const DURATION_TABLE: DurationTable = DURATIONS;

interface TypeDuration {
  readonly minutes: number;
  readonly source: string;
  readonly variants?: { readonly when: string; readonly minutes: number; readonly source: string }[];
}

/** Property rules a duration variant names (durations.json `when`). */
const VARIANT_RULES: Record<string, (p: Record<string, any>) => boolean> = {
  rdsMultiAz: (p) => p.MultiAZ === true || p.MultiAZ === 'true',
  openSearchDedicatedMasters: (p) => p.ClusterConfig?.DedicatedMasterEnabled === true || Number(p.ClusterConfig?.ZoneAwarenessConfig?.AvailabilityZoneCount) >= 3,
  elastiCacheManyShards: (p) => Number(p.NumNodeGroups ?? 1) >= 3,
};

/** Create minutes of one resource, or undefined when its type is not in the table. */
export function resourceMinutes(r: TemplateResource, table: DurationTable = DURATION_TABLE): number | undefined {
  const entry = (table.types as Record<string, TypeDuration>)[r.type];
  if (!entry) return undefined;
  for (const v of entry.variants ?? []) {
    const rule = VARIANT_RULES[v.when];
    if (!rule) throw new PlanError(`durations table: variant rule '${v.when}' of ${r.type} is not defined in lib/plan/timing.ts`);
    if (rule(r.properties)) return v.minutes;
  }
  return entry.minutes;
}

export interface StackTiming {
  /** Minutes from the stack's start to CREATE_COMPLETE: assets + change set + the longest resource chain. */
  readonly minutes: number;
  readonly assetMinutes: number;
  /** The longest chain of resources inside the stack, as logical ids with their minutes. */
  readonly resourceChain: { readonly logicalId: string; readonly type: string; readonly minutes: number }[];
  /** Resource types with no create time in the table (counted as 0 and listed, never dropped silently). */
  readonly unknownTypes: string[];
}

/**
 * Create time of one stack: CloudFormation starts every resource whose dependencies are complete,
 * so the stack takes as long as its longest chain of dependent resources, plus the change set and
 * asset publishing `cdk deploy` does first.
 */
export function stackTiming(stack: AssemblyStack, table: DurationTable = DURATION_TABLE): StackTiming {
  const byId = new Map(stack.resources.map((r) => [r.logicalId, r]));
  const unknown = new Set<string>();
  const finish = new Map<string, { minutes: number; via?: string }>();
  const visiting = new Set<string>();
  const finishOf = (id: string): number => {
    const done = finish.get(id);
    if (done) return done.minutes;
    if (visiting.has(id)) throw new PlanError(`stack ${stack.name}: resources depend on each other in a cycle through ${id}`);
    visiting.add(id);
    const r = byId.get(id)!;
    let start = 0;
    let via: string | undefined;
    for (const d of r.dependsOn) {
      const f = finishOf(d);
      if (f > start) { start = f; via = d; }
    }
    const own = resourceMinutes(r, table);
    if (own === undefined) unknown.add(r.type);
    const result = { minutes: start + (own ?? 0), via };
    finish.set(id, result);
    visiting.delete(id);
    return result.minutes;
  };
  let last: string | undefined;
  let longest = 0;
  for (const r of stack.resources) {
    const f = finishOf(r.logicalId);
    if (last === undefined || f > longest) { longest = f; last = r.logicalId; }
  }
  const chain: StackTiming['resourceChain'][number][] = [];
  for (let id = last; id !== undefined; id = finish.get(id)!.via) {
    const r = byId.get(id)!;
    chain.unshift({ logicalId: id, type: r.type, minutes: resourceMinutes(r, table) ?? 0 });
  }
  const assetMinutes = stack.assets.reduce((sum, a) => sum + (a.kind === 'docker'
    ? table.assets.dockerImageMinutes
    : a.bytes / (1024 * 1024) / table.assets.fileMiBPerMinute), 0);
  return {
    minutes: round(assetMinutes + table.perStackMinutes.minutes + longest),
    assetMinutes: round(assetMinutes),
    resourceChain: chain,
    unknownTypes: [...unknown].sort(),
  };
}

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Stack names grouped in deploy waves: a wave's stacks depend only on earlier waves (bench/deploy-waves.js). */
export function deployWaves(stacks: { name: string; dependencies: string[] }[]): string[][] {
  const deps = new Map(stacks.map((s) => [s.name, s.dependencies]));
  const waves: string[][] = [];
  const placed = new Set<string>();
  while (placed.size < deps.size) {
    const wave = [...deps.keys()].filter((n) => !placed.has(n) && deps.get(n)!.every((d) => placed.has(d) || !deps.has(d))).sort();
    if (wave.length === 0) throw new PlanError(`dependency cycle among ${[...deps.keys()].filter((n) => !placed.has(n)).join(', ')}`);
    wave.forEach((n) => placed.add(n));
    waves.push(wave);
  }
  return waves;
}

/** The longest chain of stacks through the dependency graph, weighted by each stack's minutes. */
export function criticalPath(stacks: { name: string; dependencies: string[] }[], minutes: Map<string, number>): { minutes: number; stacks: string[] } {
  const deps = new Map(stacks.map((s) => [s.name, s.dependencies.filter((d) => minutes.has(d))]));
  const memo = new Map<string, { minutes: number; via?: string }>();
  const finish = (n: string): number => {
    const hit = memo.get(n);
    if (hit) return hit.minutes;
    let start = 0;
    let via: string | undefined;
    for (const d of deps.get(n) ?? []) {
      const f = finish(d);
      if (f > start) { start = f; via = d; }
    }
    memo.set(n, { minutes: start + (minutes.get(n) ?? 0), via });
    return start + (minutes.get(n) ?? 0);
  };
  let end: string | undefined;
  for (const n of [...deps.keys()].sort()) if (end === undefined || finish(n) > finish(end)) end = n;
  const chain: string[] = [];
  for (let n = end; n !== undefined; n = memo.get(n)!.via) chain.unshift(n);
  return { minutes: end === undefined ? 0 : round(finish(end)), stacks: chain };
}

export interface ScheduledStack {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/**
 * What `cdk deploy --all --concurrency N` does: a stack starts as soon as its dependencies are
 * complete and one of N slots is free (the ready stack on the longest remaining chain first).
 * With N at least the widest wave this ends at the critical path.
 */
export function schedule(stacks: { name: string; dependencies: string[] }[], minutes: Map<string, number>, concurrency: number): ScheduledStack[] {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new PlanError(`--concurrency must be a positive integer (got ${concurrency})`);
  const deps = new Map(stacks.map((s) => [s.name, s.dependencies.filter((d) => minutes.has(d))]));
  const dependents = new Map<string, string[]>([...deps.keys()].map((n) => [n, []]));
  for (const [n, ds] of deps) for (const d of ds) dependents.get(d)!.push(n);
  const tail = new Map<string, number>();
  const tailOf = (n: string): number => {
    if (!tail.has(n)) tail.set(n, (minutes.get(n) ?? 0) + Math.max(0, ...dependents.get(n)!.map(tailOf)));
    return tail.get(n)!;
  };
  const done = new Map<string, number>();
  const running: ScheduledStack[] = [];
  const out: ScheduledStack[] = [];
  let now = 0;
  while (done.size < deps.size) {
    const ready = [...deps.keys()]
      .filter((n) => !done.has(n) && !running.some((r) => r.name === n) && deps.get(n)!.every((d) => done.has(d)))
      .sort((a, b) => tailOf(b) - tailOf(a) || a.localeCompare(b));
    while (running.length < concurrency && ready.length > 0) {
      const n = ready.shift()!;
      const s = { name: n, start: round(now), end: round(now + (minutes.get(n) ?? 0)) };
      running.push(s);
      out.push(s);
    }
    if (running.length === 0) throw new PlanError(`dependency cycle among ${[...deps.keys()].filter((n) => !done.has(n)).join(', ')}`);
    running.sort((a, b) => a.end - b.end);
    const next = running.shift()!;
    now = next.end;
    done.set(next.name, next.end);
  }
  return out;
}
