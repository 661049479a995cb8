import { Assembly } from './assembly';
import { CostLine, PRICE_TABLE, PriceTable, priceResource, regionPrices, USAGE_ASSUMPTIONS, UsageAssumptions } from './cost';
import { criticalPath, DURATION_TABLE, DurationTable, deployWaves, round, schedule, stackTiming, StackTiming } from './timing';

export interface StackPlan {
  readonly name: string;
  readonly region: string;
  readonly wave: number;
  readonly dependsOn: string[];
  readonly resourceCount: number;
  /** Resource count per CloudFormation type. */
  readonly resourcesByType: Record<string, number>;
  readonly timing: StackTiming;
  /** Start and end minute under `cdk deploy --all --concurrency N`. */
  readonly start: number;
  readonly end: number;
  readonly usdPerMonth: number;
}

/** Everything `npm run plan` prints for one environment; `--json` prints this object. */
export interface Plan {
  readonly env: string;
  readonly assembly: string;
  readonly concurrency: number;
  readonly stacks: StackPlan[];
  readonly waves: string[][];
  readonly resourceCount: number;
  /** Longest chain of the stack graph (minutes): the deploy time with enough concurrency. */
  readonly criticalPath: { readonly minutes: number; readonly stacks: string[] };
  /** End of the simulated `cdk deploy --all --concurrency N`. */
  readonly deployMinutes: number;
  readonly cost: {
    readonly usdPerMonth: number;
    readonly lines: CostLine[];
    readonly top: { readonly item: string; readonly stack: string; readonly path: string; readonly usdPerMonth: number }[];
    readonly byType: Record<string, number>;
    readonly usage: UsageAssumptions;
    readonly prices: { readonly asOf: string; readonly source: string; readonly regions: string[] };
  };
  /** Resource types nobody knows a figure for: listed, never counted as zero silently. */
  readonly unknown: { readonly time: string[]; readonly cost: string[] };
  /** Types the price table calls free (no line), with the reason. */
  readonly free: Record<string, string>;
  readonly durations: { readonly asOf: string };
  /** The AWS Budgets limit synthesized for this environment, if any. */
  readonly budget?: { readonly usdPerMonth: number; readonly exceeded: boolean };
  readonly warnings: string[];
}

export interface PlanOptions {
  readonly env: string;
  /** `cdk deploy --concurrency` to simulate. @default 3 (npm run deploy) */
  readonly concurrency?: number;
  readonly usage?: UsageAssumptions;
  readonly prices?: PriceTable;
  readonly durations?: DurationTable;
}

/** Builds the deploy plan, the monthly cost and their assumptions from a read cloud assembly. */
export function buildPlan(assembly: Assembly, options: PlanOptions): Plan {
  const concurrency = options.concurrency ?? 3;
  const prices = options.prices ?? PRICE_TABLE;
  const durations = options.durations ?? DURATION_TABLE;
  const usage = options.usage ?? USAGE_ASSUMPTIONS[options.env] ?? USAGE_ASSUMPTIONS.dev;
  const waves = deployWaves(assembly.stacks);
  const timings = new Map(assembly.stacks.map((s) => [s.name, stackTiming(s, durations)]));
  const minutes = new Map([...timings].map(([n, t]) => [n, t.minutes]));
  const path = criticalPath(assembly.stacks, minutes);
  const scheduled = new Map(schedule(assembly.stacks, minutes, concurrency).map((s) => [s.name, s]));

  const lines: CostLine[] = [];
  const unknownCost = new Set<string>();
  const free: Record<string, string> = {};
  let budget: number | undefined;
  for (const stack of assembly.stacks) {
    const ctx = {
      stack: stack.name, region: stack.region, prices: regionPrices(stack.region, prices), table: prices, usage,
      resources: new Map(stack.resources.map((r) => [r.logicalId, r])),
    };
    for (const r of stack.resources) {
      const priced = priceResource(r, ctx);
      if (priced.status === 'unknown') unknownCost.add(r.type);
      if (priced.status === 'free') free[r.type] = (prices.free as Record<string, string>)[r.type];
      lines.push(...priced.lines);
      if (r.type === 'AWS::Budgets::Budget') {
        const amount = Number(r.properties.Budget?.BudgetLimit?.Amount);
        if (Number.isFinite(amount)) budget = (budget ?? 0) + amount;
      }
    }
  }
  const total = round(lines.reduce((s, l) => s + l.usdPerMonth, 0));
  const stackCost = (name: string) => round(lines.filter((l) => l.stack === name).reduce((s, l) => s + l.usdPerMonth, 0));
  const byResource = new Map<string, { item: string; stack: string; path: string; usdPerMonth: number }>();
  for (const l of lines) {
    const key = `${l.stack}/${l.logicalId}`;
    const hit = byResource.get(key) ?? { item: `${l.type.replace(/^AWS::/, '')}: ${l.item}`, stack: l.stack, path: l.path, usdPerMonth: 0 };
    byResource.set(key, { ...hit, usdPerMonth: round(hit.usdPerMonth + l.usdPerMonth) });
  }
  const byType: Record<string, number> = {};
  for (const l of lines) byType[l.type] = round((byType[l.type] ?? 0) + l.usdPerMonth);

  const stacks = assembly.stacks.map((s): StackPlan => {
    const resourcesByType: Record<string, number> = {};
    for (const r of s.resources) resourcesByType[r.type] = (resourcesByType[r.type] ?? 0) + 1;
    return {
      name: s.name,
      region: s.region,
      wave: waves.findIndex((w) => w.includes(s.name)) + 1,
      dependsOn: s.dependencies,
      resourceCount: s.resources.length,
      resourcesByType,
      timing: timings.get(s.name)!,
      start: scheduled.get(s.name)!.start,
      end: scheduled.get(s.name)!.end,
      usdPerMonth: stackCost(s.name),
    };
  });
  const unknownTime = [...new Set([...timings.values()].flatMap((t) => t.unknownTypes))].sort();
  const warnings: string[] = [];
  if (budget !== undefined && total > budget) {
    warnings.push(`the estimate (USD ${total.toFixed(2)} a month) exceeds budgetUsdPerMonth (USD ${budget.toFixed(2)})`);
  }
  if (unknownTime.length) warnings.push(`no create time for ${unknownTime.join(', ')}: add them to lib/plan/durations.json`);
  if (unknownCost.size) warnings.push(`no price rule for ${[...unknownCost].sort().join(', ')}: add a rule to lib/plan/cost.ts or list the type as free in lib/plan/prices.json`);
  return {
    env: options.env,
    assembly: assembly.directory,
    concurrency,
    stacks,
    waves,
    resourceCount: stacks.reduce((s, x) => s + x.resourceCount, 0),
    criticalPath: path,
    deployMinutes: round(Math.max(0, ...stacks.map((s) => s.end))),
    cost: {
      usdPerMonth: total,
      lines,
      top: [...byResource.values()].sort((a, b) => b.usdPerMonth - a.usdPerMonth).slice(0, 5),
      byType,
      usage,
      prices: { asOf: prices.asOf, source: prices.source, regions: [...new Set(assembly.stacks.map((s) => s.region))].sort() },
    },
    unknown: { time: unknownTime, cost: [...unknownCost].sort() },
    free,
    durations: { asOf: durations.asOf },
    ...(budget !== undefined ? { budget: { usdPerMonth: budget, exceeded: total > budget } } : {}),
    warnings,
  };
}

/** Two environments side by side: cost and time differences, per stack part and per resource type. */
export interface PlanComparison {
  readonly base: string;
  readonly other: string;
  readonly usdPerMonth: { readonly base: number; readonly other: number; readonly difference: number };
  readonly deployMinutes: { readonly base: number; readonly other: number; readonly difference: number };
  readonly criticalPathMinutes: { readonly base: number; readonly other: number; readonly difference: number };
  readonly resources: { readonly base: number; readonly other: number; readonly difference: number };
  /** Per stack part (`network`, `data`, ...; the env prefix removed). */
  readonly stacks: { readonly part: string; readonly usdBase: number; readonly usdOther: number; readonly minutesBase: number; readonly minutesOther: number }[];
  readonly byType: { readonly type: string; readonly usdBase: number; readonly usdOther: number; readonly difference: number }[];
}

const diff = (base: number, other: number) => ({ base, other, difference: round(base - other) });

/** Stack name without its `<app>-<env>-` prefix. */
export const stackPart = (name: string, env: string): string => name.replace(new RegExp(`^.*?-${env}-`), '');

export function comparePlans(base: Plan, other: Plan): PlanComparison {
  const parts = [...new Set([...base.stacks.map((s) => stackPart(s.name, base.env)), ...other.stacks.map((s) => stackPart(s.name, other.env))])].sort();
  const find = (p: Plan, part: string) => p.stacks.find((s) => stackPart(s.name, p.env) === part);
  const types = [...new Set([...Object.keys(base.cost.byType), ...Object.keys(other.cost.byType)])];
  return {
    base: base.env,
    other: other.env,
    usdPerMonth: diff(base.cost.usdPerMonth, other.cost.usdPerMonth),
    deployMinutes: diff(base.deployMinutes, other.deployMinutes),
    criticalPathMinutes: diff(base.criticalPath.minutes, other.criticalPath.minutes),
    resources: diff(base.resourceCount, other.resourceCount),
    stacks: parts.map((part) => ({
      part,
      usdBase: find(base, part)?.usdPerMonth ?? 0,
      usdOther: find(other, part)?.usdPerMonth ?? 0,
      minutesBase: find(base, part)?.timing.minutes ?? 0,
      minutesOther: find(other, part)?.timing.minutes ?? 0,
    })),
    byType: types.map((type) => ({ type, usdBase: base.cost.byType[type] ?? 0, usdOther: other.cost.byType[type] ?? 0, difference: round((base.cost.byType[type] ?? 0) - (other.cost.byType[type] ?? 0)) }))
      .sort((a, b) => Math.abs(b.difference) - Math.abs(a.difference)),
  };
}
