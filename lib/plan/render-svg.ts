import { execFileSync } from 'child_process';
import { Assembly, PlanError, TemplateResource } from './assembly';
import { Plan, stackPart } from './plan';

/** Resource types drawn as their own node; every other type is counted in one summary node per stack. */
const MAIN_TYPES: Record<string, string> = {
  'AWS::CloudFront::Distribution': 'CloudFront',
  'AWS::CloudFront::VpcOrigin': 'VPC origin',
  'AWS::WAFv2::WebACL': 'WAF web ACL',
  'AWS::ElasticLoadBalancingV2::LoadBalancer': 'ALB',
  'AWS::ElasticLoadBalancingV2::TargetGroup': 'target group',
  'AWS::EC2::VPC': 'VPC',
  'AWS::EC2::NatGateway': 'NAT gateway',
  'AWS::EC2::Instance': 'EC2 instance',
  'AWS::EC2::VPCEndpoint': 'VPC endpoint',
  'AWS::EKS::Cluster': 'EKS cluster',
  'AWS::EKS::Nodegroup': 'node group',
  'Custom::AWSCDK-EKS-HelmChart': 'Helm chart',
  'Custom::AWSCDK-EKS-KubernetesResource': 'manifest',
  'Custom::AWSCDK-EKS-KubernetesObjectValue': 'release gate',
  'AWS::RDS::DBInstance': 'RDS MySQL',
  'AWS::ElastiCache::ReplicationGroup': 'ElastiCache',
  'AWS::OpenSearchService::Domain': 'OpenSearch',
  'AWS::S3::Bucket': 'S3 bucket',
  'AWS::Backup::BackupVault': 'backup vault',
  'AWS::Backup::BackupPlan': 'backup plan',
  'AWS::Budgets::Budget': 'budget',
  'AWS::SNS::Topic': 'SNS topic',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const id = (s: string) => `n_${s.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** A short name for a resource from its construct path (`platform-dev-data/Mysql/Instance/Resource` → `Mysql/Instance`). */
const shortPath = (p: string) => p.split('/').slice(1).filter((x) => !/^(Resource|Default)$/.test(x)).join('/').replace(/^platform\w*-/, '').slice(0, 40);

/** What a main resource is, in one or two lines (size, count). */
function describe(r: TemplateResource): string {
  const p = r.properties;
  switch (r.type) {
    case 'AWS::RDS::DBInstance': return `${p.DBInstanceClass} ${p.MultiAZ === true || p.MultiAZ === 'true' ? 'Multi-AZ' : 'Single-AZ'}, ${p.AllocatedStorage} GiB`;
    case 'AWS::ElastiCache::ReplicationGroup': return `${p.CacheNodeType}, ${p.NumNodeGroups ?? 1} shard(s) × ${1 + Number(p.ReplicasPerNodeGroup ?? 0)}`;
    case 'AWS::OpenSearchService::Domain': {
      const c = p.ClusterConfig ?? {};
      return `${c.InstanceCount} × ${c.InstanceType}${c.DedicatedMasterEnabled ? ` + ${c.DedicatedMasterCount} masters` : ''}`;
    }
    case 'AWS::EKS::Nodegroup': return `${p.ScalingConfig?.DesiredSize} × ${(p.InstanceTypes ?? []).join(',')} ${p.CapacityType === 'SPOT' ? 'Spot' : ''}`.trim();
    case 'AWS::EKS::Cluster': return `Kubernetes ${p.Version}`;
    case 'AWS::EC2::VPCEndpoint': return `${p.VpcEndpointType ?? 'Gateway'}`;
    case 'AWS::Budgets::Budget': return `USD ${p.Budget?.BudgetLimit?.Amount} / month`;
    default: return '';
  }
}

/** Which drawn node is which part of the traffic path (matched on type and construct path). */
const ROLES: { role: string; type: string; path?: RegExp }[] = [
  { role: 'cdn', type: 'AWS::CloudFront::Distribution' },
  { role: 'waf', type: 'AWS::WAFv2::WebACL' },
  { role: 'origin', type: 'AWS::CloudFront::VpcOrigin' },
  { role: 'alb', type: 'AWS::ElasticLoadBalancingV2::LoadBalancer' },
  { role: 'tg', type: 'AWS::ElasticLoadBalancingV2::TargetGroup' },
  { role: 'gateway', type: 'Custom::AWSCDK-EKS-KubernetesResource', path: /gateway/i },
  { role: 'services', type: 'Custom::AWSCDK-EKS-KubernetesResource', path: /services/i },
  { role: 'jobs', type: 'Custom::AWSCDK-EKS-KubernetesResource', path: /jobs/i },
  { role: 'registry', type: 'Custom::AWSCDK-EKS-KubernetesResource', path: /registry/i },
  { role: 'mysql', type: 'AWS::RDS::DBInstance' },
  { role: 'redis', type: 'AWS::ElastiCache::ReplicationGroup' },
  { role: 'search', type: 'AWS::OpenSearchService::Domain' },
  { role: 'static', type: 'AWS::S3::Bucket', path: /static/i },
  { role: 'uploads', type: 'AWS::S3::Bucket', path: /upload/i },
  { role: 'cluster', type: 'AWS::EKS::Cluster' },
  { role: 'nodes', type: 'AWS::EKS::Nodegroup' },
  { role: 'nat', type: 'AWS::EC2::NatGateway' },
  { role: 'nat', type: 'AWS::EC2::Instance', path: /NatInstance/ },
];

/** The traffic path, CloudFront → ALB → gateway → services → data stores, as edges between roles. */
const TRAFFIC: [string, string, string][] = [
  ['viewers', 'cdn', 'HTTPS'], ['waf', 'cdn', 'filters'], ['cdn', 'static', 'default /*'], ['cdn', 'origin', '/api/*'], ['origin', 'alb', ''],
  ['alb', 'tg', 'sticky'], ['tg', 'gateway', 'TargetGroupBinding'], ['gateway', 'services', ''], ['gateway', 'registry', 'discovery'], ['services', 'registry', ''],
  ['services', 'mysql', ''], ['services', 'redis', ''], ['services', 'search', ''], ['services', 'uploads', ''],
  ['jobs', 'mysql', ''], ['jobs', 'search', ''], ['cluster', 'nodes', ''], ['nodes', 'nat', 'egress'],
];

/** Graphviz source of the architecture as synthesized: stacks as clusters, the main resources, the traffic path. */
export function architectureDot(plan: Plan, assembly: Assembly): string {
  const out: string[] = [];
  out.push('digraph architecture {');
  out.push(`  graph [rankdir=LR, compound=true, fontname="DejaVu Sans", fontsize=12, labelloc=t, nodesep=0.25, ranksep=0.6, label=<<B>${esc(plan.env)}</B>: ${plan.stacks.length} stacks, ${plan.resourceCount} resources, USD ${plan.cost.usdPerMonth.toFixed(0)} / month on demand, deploy ${plan.deployMinutes.toFixed(0)} min>];`);
  out.push('  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="DejaVu Sans", fontsize=10];');
  out.push('  edge [fontname="DejaVu Sans", fontsize=9, color="#555555"];');
  out.push('  viewers [shape=circle, label="viewers", fillcolor="#fde9c8"];');
  const roles = new Map<string, string>();
  const cost = new Map<string, number>();
  for (const l of plan.cost.lines) cost.set(`${l.stack}/${l.logicalId}`, (cost.get(`${l.stack}/${l.logicalId}`) ?? 0) + l.usdPerMonth);
  const palette = ['#e8f1fb', '#eaf7ea', '#fbeaea', '#f3ebfa', '#fdf5e0', '#e6f7f7', '#f0f0f0', '#fbe9f3'];
  assembly.stacks.forEach((stack, i) => {
    const sp = plan.stacks.find((s) => s.name === stack.name)!;
    out.push(`  subgraph cluster_${i} {`);
    out.push(`    graph [label=<<B>${esc(stack.name)}</B><BR/>${esc(stack.region)} · wave ${sp.wave} · ${sp.resourceCount} resources · ${sp.timing.minutes.toFixed(1)} min · USD ${sp.usdPerMonth.toFixed(0)}/mo>, style="rounded,filled", fillcolor="${palette[i % palette.length]}", color="#999999"];`);
    const others: Record<string, number> = {};
    for (const r of stack.resources) {
      const kind = MAIN_TYPES[r.type];
      if (!kind) {
        if (r.type !== 'AWS::CDK::Metadata') others[r.type] = (others[r.type] ?? 0) + 1;
        continue;
      }
      const nodeId = id(`${stack.name}_${r.logicalId}`);
      const usdMonth = cost.get(`${stack.name}/${r.logicalId}`) ?? 0;
      const detail = describe(r);
      out.push(`    ${nodeId} [label=<<B>${esc(kind)}</B><BR/>${esc(shortPath(r.path))}${detail ? `<BR/>${esc(detail)}` : ''}${usdMonth >= 0.5 ? `<BR/><I>USD ${usdMonth.toFixed(0)}/mo</I>` : ''}>];`);
      for (const role of ROLES) if (!roles.has(role.role) && role.type === r.type && (!role.path || role.path.test(r.path))) roles.set(role.role, nodeId);
    }
    const summary = Object.entries(others).sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t.replace(/^(AWS|Custom)::/, '')} ${n}`);
    if (summary.length) {
      const rows: string[] = [];
      for (let k = 0; k < summary.length; k += 3) rows.push(esc(summary.slice(k, k + 3).join(' · ')));
      out.push(`    ${id(`${stack.name}_others`)} [shape=note, fillcolor="#fafafa", fontsize=8, label=<${rows.join('<BR/>')}>];`);
    }
    out.push('  }');
  });
  roles.set('viewers', 'viewers');
  for (const [from, to, label] of TRAFFIC) {
    const a = roles.get(from);
    const b = roles.get(to);
    if (a && b) out.push(`  ${a} -> ${b} [${label ? `label="${esc(label)}", ` : ''}${from === 'waf' || from === 'cluster' || from === 'nodes' ? 'style=dashed' : 'penwidth=1.6, color="#1f5fa8"'}];`);
  }
  out.push('}');
  return out.join('\n');
}

/** Graphviz source of a Gantt chart of `cdk deploy --all --concurrency N`: one row per stack, one column per minute. */
export function ganttDot(plan: Plan): string {
  const width = Math.max(1, Math.ceil(plan.deployMinutes));
  const critical = new Set(plan.criticalPath.stacks);
  const rows: string[] = [];
  const ticks: string[] = [];
  for (let m = 0; m < width; m += 5) ticks.push(`<TD COLSPAN="${Math.min(5, width - m)}" ALIGN="LEFT"><FONT POINT-SIZE="8">${m}</FONT></TD>`);
  rows.push(`<TR><TD></TD><TD></TD>${ticks.join('')}</TR>`);
  // A row of fixed one-minute cells gives every column the same width.
  rows.push(`<TR><TD></TD><TD></TD>${Array.from({ length: width }, () => '<TD FIXEDSIZE="TRUE" WIDTH="9" HEIGHT="2" BGCOLOR="#cccccc"></TD>').join('')}</TR>`);
  for (const s of plan.stacks.slice().sort((a, b) => a.start - b.start || a.wave - b.wave)) {
    const start = Math.min(width - 1, Math.floor(s.start));
    const span = Math.max(1, Math.min(width - start, Math.round(s.end) - start));
    const rest = width - start - span;
    const color = critical.has(s.name) ? '#d9534f' : '#5b9bd5';
    rows.push(`<TR><TD ALIGN="LEFT">wave ${s.wave}</TD><TD ALIGN="LEFT">${esc(s.name)}</TD>`
      + `${start > 0 ? `<TD COLSPAN="${start}"></TD>` : ''}<TD COLSPAN="${span}" BGCOLOR="${color}"><FONT COLOR="white" POINT-SIZE="9">${s.timing.minutes.toFixed(1)} min</FONT></TD>`
      + `${rest > 0 ? `<TD COLSPAN="${rest}"></TD>` : ''}</TR>`);
  }
  return [
    'digraph deploy {',
    `  graph [fontname="DejaVu Sans", fontsize=12, labelloc=t, label=<<B>${esc(plan.env)}</B>: cdk deploy --all --concurrency ${plan.concurrency} — ${plan.deployMinutes.toFixed(1)} min; critical path (red) ${plan.criticalPath.minutes.toFixed(1)} min: ${esc(plan.criticalPath.stacks.map((n) => stackPart(n, plan.env)).join(' → '))}>];`,
    '  node [shape=plaintext, fontname="DejaVu Sans", fontsize=10];',
    `  gantt [label=<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="3">${rows.join('')}<TR><TD></TD><TD ALIGN="LEFT"><FONT POINT-SIZE="8">minutes</FONT></TD></TR></TABLE>>];`,
    '}',
  ].join('\n');
}

/** Runs Graphviz `dot -Tsvg`. */
export function renderDot(dot: string, binary = 'dot'): string {
  try {
    return execFileSync(binary, ['-Tsvg'], { input: dot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e: any) {
    if (e.code === 'ENOENT') throw new PlanError('Graphviz is not installed (no dot on PATH): run bash scripts/plan-tools.sh (apt-get install graphviz), or pass --no-svg');
    throw new PlanError(`dot -Tsvg failed: ${String(e.stderr ?? e.message).trim()}`);
  }
}

/** One HTML page with both pictures inline and the text plan. */
export function planHtml(plan: Plan, architectureSvg: string, ganttSvg: string, text: string): string {
  const strip = (svg: string) => svg.replace(/^[\s\S]*?(<svg)/, '$1');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(plan.env)}: deploy plan and monthly cost</title>
<style>body{font-family:"DejaVu Sans",sans-serif;margin:16px;background:#fff}svg{max-width:100%;height:auto}pre{font-size:11px}</style></head>
<body>
<h1>${esc(plan.env)}: USD ${plan.cost.usdPerMonth.toFixed(2)} a month, ${plan.deployMinutes.toFixed(1)} min to deploy</h1>
<h2>Architecture as synthesized</h2>
${strip(architectureSvg)}
<h2>Deploy waves</h2>
${strip(ganttSvg)}
<h2>Plan</h2>
<pre>${esc(text)}</pre>
</body></html>
`;
}
