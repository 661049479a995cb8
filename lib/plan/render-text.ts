import { Plan, PlanComparison, stackPart } from './plan';

/** Left-aligned columns; numbers (cells that start with a digit, - or +) right-aligned. */
export function table(rows: string[][], header: string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.]+( →|$|[\d.]*$)/.test(r[i] ?? '') || (r[i] ?? '') === ''));
  const fmt = (r: string[]) => r.map((c, i) => (numeric[i] ? (c ?? '').padStart(widths[i]) : (c ?? '').padEnd(widths[i]))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

const usd = (n: number) => n.toFixed(2);
const min = (n: number) => n.toFixed(1);
const shortType = (t: string) => t.replace(/^AWS::/, '').replace(/^Custom::AWSCDK-?/, 'cdk:');

/** A stack's longest resource chain, steps of a minute or more, repeats folded (`manifest 1 ×6`). */
function chainText(chain: { type: string; minutes: number }[]): string {
  const steps: { text: string; n: number }[] = [];
  for (const c of chain.filter((x) => x.minutes >= 1)) {
    const text = `${shortType(c.type)} ${c.minutes}`;
    if (steps.length && steps[steps.length - 1].text === text) steps[steps.length - 1].n += 1;
    else steps.push({ text, n: 1 });
  }
  return steps.map((s) => (s.n > 1 ? `${s.text} ×${s.n}` : s.text)).join(' → ') || '-';
}

/** The plan as the terminal shows it. */
export function renderPlan(plan: Plan): string {
  const out: string[] = [];
  out.push(`Plan for ${plan.env} (${plan.assembly}; prices for ${plan.cost.prices.regions.join(', ')} as of ${plan.cost.prices.asOf}; create times as of ${plan.durations.asOf})`);
  out.push('');
  out.push(`DEPLOY  ${plan.stacks.length} stacks, ${plan.resourceCount} resources, ${plan.waves.length} waves; critical path ${min(plan.criticalPath.minutes)} min `
    + `(${plan.criticalPath.stacks.map((s) => stackPart(s, plan.env)).join(' → ')}); cdk deploy --all --concurrency ${plan.concurrency}: ${min(plan.deployMinutes)} min`);
  out.push(table(plan.stacks.slice().sort((a, b) => a.wave - b.wave || a.start - b.start).map((s) => [
    String(s.wave), s.name, s.region, String(s.resourceCount), min(s.timing.minutes), `${min(s.start)} → ${min(s.end)}`,
    chainText(s.timing.resourceChain), usd(s.usdPerMonth),
  ]), ['wave', 'stack', 'region', 'resources', 'create min', 'start → end', 'longest chain inside (min, ≥ 1)', 'USD/month']));
  out.push('');
  for (const s of plan.stacks) {
    const types = Object.entries(s.resourcesByType).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    out.push(`  ${stackPart(s.name, plan.env)}: ${types.map(([t, n]) => `${shortType(t)} ${n}`).join(', ')}${s.timing.assetMinutes ? `; assets ${min(s.timing.assetMinutes)} min` : ''}`);
  }
  out.push('');
  out.push(`MONTHLY COST  USD ${usd(plan.cost.usdPerMonth)} on demand${plan.budget ? ` (budget USD ${usd(plan.budget.usdPerMonth)}${plan.budget.exceeded ? ': EXCEEDED' : ''})` : ''}`);
  // Every usage-priced line shows its assumption; other lines under half a dollar (and small log storage) are summed; --json has them all.
  const shown = (l: typeof plan.cost.lines[number]) => l.usdPerMonth >= 0.5 || (!!l.assumption && !l.item.startsWith('log storage'));
  const lines = plan.cost.lines.filter(shown).sort((a, b) => a.stack.localeCompare(b.stack) || b.usdPerMonth - a.usdPerMonth);
  const small = plan.cost.lines.filter((l) => !shown(l));
  out.push(table([...lines.map((l) => [
    stackPart(l.stack, plan.env), l.path.replace(/^[^/]+\//, '').replace(/\/(Resource|Default)$/, '').slice(0, 46), l.item.slice(0, 52),
    `${+l.quantity.toFixed(3)} ${l.unit}`, `× ${l.unitPrice}`, usd(l.usdPerMonth), l.assumption ? `usage: ${l.assumption}` : '',
  ]), ...(small.length ? [['all', `${small.length} lines under USD 0.50 each`, 'secrets, log storage, ...', '', '', usd(small.reduce((s, l) => s + l.usdPerMonth, 0)), 'see --json']] : [])],
  ['stack', 'resource', 'item', 'quantity', 'unit price', 'USD/month', '']));
  out.push('');
  out.push(table(plan.stacks.map((s) => [s.name, usd(s.usdPerMonth)]).concat([['total', usd(plan.cost.usdPerMonth)]]), ['stack', 'USD/month']));
  out.push('');
  out.push('Top 5:');
  plan.cost.top.forEach((t, i) => out.push(`  ${i + 1}. USD ${usd(t.usdPerMonth).padStart(8)}  ${t.item} (${stackPart(t.stack, plan.env)})`));
  out.push('');
  const u = plan.cost.usage;
  out.push(`Usage assumptions (lib/plan/usage.json, ${plan.env}): CloudFront ${u.cloudFrontGbOut} GB out and ${u.cloudFrontMillionRequests} M requests, WAF ${u.wafMillionRequests} M requests, `
    + `NAT ${u.natGbProcessed} GB per gateway, ALB ${u.albLcu} LCU, interface endpoints ${u.interfaceEndpointGbPerEndpoint} GB each, `
    + `logs ingested per group ${Object.entries(u.logIngestGb).map(([k, v]) => `${k} ${v} GB`).join(', ')}, S3 ${u.s3GbStored} GB, backups ${u.backupGbStored} GB; ${730} h a month.`);
  out.push(`Prices: ${plan.cost.prices.source}.`);
  out.push(`Free (no line): ${Object.keys(plan.free).map(shortType).sort().join(', ')}.`);
  out.push(`Unknown: time ${plan.unknown.time.length ? plan.unknown.time.join(', ') : 'none'}; cost ${plan.unknown.cost.length ? plan.unknown.cost.join(', ') : 'none'}.`);
  for (const w of plan.warnings) out.push(`WARNING: ${w}`);
  return out.join('\n');
}

const signed = (n: number, f: (x: number) => string) => (n > 0 ? `+${f(n)}` : f(n));

/** `--compare`: the difference between two environments' plans. */
export function renderComparison(c: PlanComparison): string {
  const out: string[] = [];
  out.push(`${c.base} vs ${c.other}: USD ${usd(c.usdPerMonth.base)} vs ${usd(c.usdPerMonth.other)} a month (${signed(c.usdPerMonth.difference, usd)}); `
    + `deploy ${min(c.deployMinutes.base)} vs ${min(c.deployMinutes.other)} min (${signed(c.deployMinutes.difference, min)}); `
    + `critical path ${min(c.criticalPathMinutes.base)} vs ${min(c.criticalPathMinutes.other)} min; resources ${c.resources.base} vs ${c.resources.other}`);
  out.push(table(c.stacks.map((s) => [s.part, usd(s.usdBase), usd(s.usdOther), signed(Math.round((s.usdBase - s.usdOther) * 100) / 100, usd), min(s.minutesBase), min(s.minutesOther)]),
    ['stack', `USD ${c.base}`, `USD ${c.other}`, 'difference', `min ${c.base}`, `min ${c.other}`]));
  out.push('');
  out.push(table(c.byType.filter((t) => t.difference !== 0).map((t) => [shortType(t.type), usd(t.usdBase), usd(t.usdOther), signed(t.difference, usd)]),
    ['resource type', `USD ${c.base}`, `USD ${c.other}`, 'difference']));
  return out.join('\n');
}
