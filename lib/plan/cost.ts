import { PlanError, TemplateResource } from './assembly';
import PRICES from './prices.json';
import { round } from './timing';
import USAGE from './usage.json';

/** The checked-in price table (lib/plan/prices.json). */
export type PriceTable = typeof PRICES;
export type RegionPrices = PriceTable['regions']['eu-west-1'];
export const PRICE_TABLE: PriceTable = PRICES;

/** What usage-billed items are multiplied by (lib/plan/usage.json, per environment). */
export type UsageAssumptions = typeof USAGE['dev'];
export const USAGE_ASSUMPTIONS: Record<string, UsageAssumptions> = USAGE as any;

/** One priced line: quantity × unit price = USD per month. */
export interface CostLine {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly path: string;
  /** What is billed, e.g. `db.t4g.medium instance-hours`. */
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitPrice: number;
  readonly usdPerMonth: number;
  /** Set for items billed by usage: the assumption the quantity comes from. */
  readonly assumption?: string;
}

/** Everything a rule needs to price one resource. */
export interface PricingContext {
  readonly stack: string;
  readonly region: string;
  readonly prices: RegionPrices;
  readonly table: PriceTable;
  readonly usage: UsageAssumptions;
  /** Other resources of the same template, by logical id (a node group reads its launch template). */
  readonly resources: Map<string, TemplateResource>;
}

type Rule = (r: TemplateResource, c: PricingContext) => Omit<CostLine, 'stack' | 'logicalId' | 'type' | 'path'>[];

const num = (v: unknown, fallback: number): number => (typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !isNaN(Number(v))) ? Number(v) : fallback);
const truthy = (v: unknown): boolean => v === true || v === 'true';

/** An hourly price from a per-type map, or a PlanError naming the table to extend. */
function hourly(map: Record<string, number>, key: string, what: string, c: PricingContext): number {
  const price = map[key];
  if (price === undefined) {
    throw new PlanError(`no ${what} price for ${key} in ${c.region} in lib/plan/prices.json (as of ${c.table.asOf}): add it, or run npm run plan -- --refresh-prices`);
  }
  return price;
}

const line = (item: string, quantity: number, unit: string, unitPrice: number, assumption?: string) =>
  ({ item, quantity: round(quantity, 3), unit, unitPrice, usdPerMonth: round(quantity * unitPrice), ...(assumption ? { assumption } : {}) });

const hours = (c: PricingContext) => c.table.hoursPerMonth;

/** Log group kind for the ingestion assumption, from its construct path. */
export function logKind(path: string): keyof UsageAssumptions['logIngestGb'] {
  if (/flow ?logs?/i.test(path)) return 'flowLogs';
  if (/ControlPlane/i.test(path)) return 'controlPlane';
  if (/ContainerInsights-?application/i.test(path)) return 'containers';
  if (/waf|WebAcl/i.test(path)) return 'waf';
  if (/Mysql|Redis|Search/i.test(path)) return 'database';
  return 'other';
}

/** ManagedPrometheus's default scrape interval, and what a stored sample weighs with its share of the index. */
const PROMETHEUS_SCRAPE_SECONDS = 30;
const PROMETHEUS_BYTES_PER_SAMPLE = 2;
const prometheusSamplesPerMonth = (c: PricingContext) => c.usage.prometheusActiveSeries * (hours(c) * 3600 / PROMETHEUS_SCRAPE_SECONDS);

/** A public IPv4 address held all month: an Elastic IP, or one an instance asks for at launch. */
const publicIpv4 = (c: PricingContext) => line('public IPv4 address', hours(c), 'address-hours', c.prices.publicIpv4Hour);

/** The pricing rule of each priced resource type. Types in prices.json `free` cost nothing; any other type is listed as unknown. */
export const PRICING_RULES: Record<string, Rule> = {
  'AWS::EKS::Cluster': (_r, c) => [line('EKS control plane (standard support)', hours(c), 'cluster-hours', c.prices.eksClusterHour)],

  'AWS::EKS::Nodegroup': (r, c) => {
    const p = r.properties;
    const count = num(p.ScalingConfig?.DesiredSize, num(p.ScalingConfig?.MinSize, 1));
    const type = (p.InstanceTypes ?? [])[0];
    if (!type) throw new PlanError(`${r.path}: node group without InstanceTypes cannot be priced`);
    const spot = p.CapacityType === 'SPOT';
    const onDemand = hourly(c.prices.ec2Hour, type, 'EC2', c);
    const out = [spot
      ? line(`${count} × ${type} nodes, Spot`, count * hours(c), 'instance-hours', round(onDemand * c.table.spotFractionOfOnDemand, 5),
        `Spot at ${c.table.spotFractionOfOnDemand * 100} % of on-demand (${c.table.spotSource})`)
      : line(`${count} × ${type} nodes (desired size), on demand`, count * hours(c), 'instance-hours', onDemand)];
    const ltId = p.LaunchTemplate?.Id?.Ref;
    const lt = ltId ? c.resources.get(ltId)?.properties.LaunchTemplateData : undefined;
    const disk = (lt?.BlockDeviceMappings ?? []).reduce((s: number, b: any) => s + num(b.Ebs?.VolumeSize, 0), 0) || num(p.DiskSize, 20);
    out.push(line(`${count} × ${disk} GiB gp3 root volumes`, count * disk, 'GB-months', c.prices.ebsGp3GbMonth));
    if (truthy(lt?.Monitoring?.Enabled)) out.push(line(`${count} × EC2 detailed monitoring`, count, 'instance-months', c.prices.ec2DetailedMonitoringInstanceMonth));
    return out;
  },

  'AWS::RDS::DBInstance': (r, c) => {
    const p = r.properties;
    const cls = String(p.DBInstanceClass);
    const az = truthy(p.MultiAZ) ? 2 : 1;
    const storage = num(p.AllocatedStorage, 20);
    return [
      line(`${cls} ${az === 2 ? 'Multi-AZ (primary + standby)' : 'Single-AZ'}`, az * hours(c), 'instance-hours', hourly(c.prices.rdsMysqlHour, cls, 'RDS MySQL', c)),
      line(`${storage} GiB ${p.StorageType ?? 'gp2'} storage${az === 2 ? ' × 2 (Multi-AZ)' : ''}`, az * storage, 'GB-months', c.prices.rdsStorageGbMonth),
    ];
  },

  'AWS::ElastiCache::ReplicationGroup': (r, c) => {
    const p = r.properties;
    const shards = num(p.NumNodeGroups, 1);
    const replicas = num(p.ReplicasPerNodeGroup, num(p.NumCacheClusters, 1) - 1);
    const nodes = shards * (1 + replicas);
    return [line(`${nodes} × ${p.CacheNodeType} (${shards} shard(s) × ${1 + replicas} nodes)`, nodes * hours(c), 'node-hours',
      hourly(c.prices.elastiCacheHour, String(p.CacheNodeType), 'ElastiCache', c))];
  },

  'AWS::OpenSearchService::Domain': (r, c) => {
    const cc = r.properties.ClusterConfig ?? {};
    const data = num(cc.InstanceCount, 1);
    const out = [line(`${data} × ${cc.InstanceType} data nodes`, data * hours(c), 'instance-hours', hourly(c.prices.openSearchHour, String(cc.InstanceType), 'OpenSearch', c))];
    if (truthy(cc.DedicatedMasterEnabled)) {
      const masters = num(cc.DedicatedMasterCount, 3);
      out.push(line(`${masters} × ${cc.DedicatedMasterType} dedicated masters`, masters * hours(c), 'instance-hours',
        hourly(c.prices.openSearchHour, String(cc.DedicatedMasterType), 'OpenSearch', c)));
    }
    const ebs = r.properties.EBSOptions ?? {};
    if (truthy(ebs.EBSEnabled)) {
      const size = num(ebs.VolumeSize, 10);
      out.push(line(`${data} × ${size} GiB ${ebs.VolumeType ?? 'gp3'} volumes`, data * size, 'GB-months', c.prices.openSearchGp3GbMonth));
    }
    return out;
  },

  'AWS::EC2::NatGateway': (_r, c) => [
    line('NAT gateway', hours(c), 'gateway-hours', c.prices.natGatewayHour),
    line('NAT data processed', c.usage.natGbProcessed, 'GB', c.prices.natGatewayGb, `${c.usage.natGbProcessed} GB a month per NAT gateway (image pulls, AWS APIs)`),
  ],

  // A standalone instance (the dev NAT instance): its hours, root volume, detailed monitoring and public address.
  'AWS::EC2::Instance': (r, c) => {
    const p = r.properties;
    const type = String(p.InstanceType);
    const out = [line(`1 × ${type} instance, on demand`, hours(c), 'instance-hours', hourly(c.prices.ec2Hour, type, 'EC2', c))];
    const disk = (p.BlockDeviceMappings ?? []).reduce((s: number, b: any) => s + num(b.Ebs?.VolumeSize, 8), 0) || 8;
    out.push(line(`${disk} GiB gp3 root volume`, disk, 'GB-months', c.prices.ebsGp3GbMonth));
    if (truthy(p.Monitoring)) out.push(line('EC2 detailed monitoring', 1, 'instance-months', c.prices.ec2DetailedMonitoringInstanceMonth));
    if ((p.NetworkInterfaces ?? []).some((n: any) => truthy(n.AssociatePublicIpAddress))) out.push(publicIpv4(c));
    return out;
  },

  'AWS::EC2::EIP': (_r, c) => [publicIpv4(c)],

  'AWS::ElasticLoadBalancingV2::LoadBalancer': (r, c) => {
    if (r.properties.Type && r.properties.Type !== 'application') throw new PlanError(`${r.path}: only application load balancers are priced (got ${r.properties.Type})`);
    return [
      line('Application Load Balancer', hours(c), 'ALB-hours', c.prices.albHour),
      line('ALB capacity units', c.usage.albLcu * hours(c), 'LCU-hours', c.prices.albLcuHour, `${c.usage.albLcu} LCU on average`),
    ];
  },

  'AWS::EC2::VPCEndpoint': (r, c) => {
    if ((r.properties.VpcEndpointType ?? 'Gateway') !== 'Interface') return [line('gateway endpoint', 1, 'endpoint', 0)];
    const azs = Array.isArray(r.properties.SubnetIds) ? r.properties.SubnetIds.length : 1;
    return [
      line(`interface endpoint in ${azs} AZ(s)`, azs * hours(c), 'endpoint-AZ-hours', c.prices.interfaceEndpointAzHour),
      line('interface endpoint data', c.usage.interfaceEndpointGbPerEndpoint, 'GB', c.prices.interfaceEndpointGb, `${c.usage.interfaceEndpointGbPerEndpoint} GB a month per endpoint`),
    ];
  },

  'AWS::KMS::Key': (_r, c) => [line('customer managed key', 1, 'key-months', c.prices.kmsKeyMonth)],
  'AWS::SecretsManager::Secret': (_r, c) => [line('secret', 1, 'secret-months', c.prices.secretMonth)],
  'AWS::CloudWatch::Alarm': (_r, c) => [line('standard-resolution alarm', 1, 'alarm-months', c.prices.alarmMonth)],
  'AWS::CloudWatch::Dashboard': (_r, c) => [line('dashboard', 1, 'dashboard-months', c.prices.dashboardMonth, 'the first 3 dashboards of an account are free; counted as paid')],
  'AWS::Logs::MetricFilter': (r, c) => {
    const perService = (r.properties.MetricTransformations ?? []).some((t: any) => t.Dimensions);
    const metrics = perService ? c.usage.serviceMetricDimensions : 1;
    return [line('custom metrics of a log metric filter', metrics, 'metric-months', c.prices.customMetricMonth,
      perService ? `one metric per value of its dimension: ${metrics} services` : 'one metric')];
  },
  'AWS::CloudFront::MonitoringSubscription': (_r, c) => [line('CloudFront additional metrics', 8, 'metric-months', c.prices.customMetricMonth, '8 additional metrics of one distribution, billed as CloudWatch metrics')],

  'AWS::Logs::LogGroup': (r, c) => {
    const kind = logKind(r.path);
    const gb = c.usage.logIngestGb[kind];
    const retentionMonths = Math.min(12, num(r.properties.RetentionInDays, 3650) / 30);
    const stored = gb * retentionMonths * c.usage.logStoredFractionOfIngested;
    return [
      line(`log ingestion (${kind})`, gb, 'GB', c.prices.logsIngestGb, `${gb} GB ingested a month into a ${kind} log group`),
      line('log storage', stored, 'GB-months', c.prices.logsStorageGbMonth,
        `steady state: ${Math.round(retentionMonths * 10) / 10} month(s) kept (at most 12 counted), stored at ${c.usage.logStoredFractionOfIngested * 100} % of ingested size`),
    ];
  },

  'AWS::APS::Workspace': (r, c) => {
    const samples = prometheusSamplesPerMonth(c);
    const retentionMonths = num((r.properties.WorkspaceConfiguration as any)?.RetentionPeriodInDays, 150) / 30;
    const storedGb = (samples * PROMETHEUS_BYTES_PER_SAMPLE * retentionMonths) / 2 ** 30;
    const p = c.prices.prometheus;
    return [
      line('Prometheus samples ingested', samples / 1e7, '10M samples', p.ingestedPer10MSamples,
        `${c.usage.prometheusActiveSeries} active series scraped every ${PROMETHEUS_SCRAPE_SECONDS} s`),
      line('Prometheus storage', storedGb, 'GB-months', p.storageGbMonth,
        `steady state: ${round(retentionMonths, 1)} months kept at ~${PROMETHEUS_BYTES_PER_SAMPLE} bytes a sample`),
      line('Prometheus query samples processed', c.usage.prometheusQueryBillionSamples, 'billion samples', p.queryPerBillionSamples,
        `${c.usage.prometheusQueryBillionSamples} billion a month: rule evaluation over the SLO windows (up to 3 days) and a few dashboards`),
    ];
  },
  'AWS::APS::Scraper': (_r, c) => [
    line('managed Prometheus collector', hours(c), 'collector-hours', c.prices.prometheus.collectorHour),
    line('samples collected', prometheusSamplesPerMonth(c) / 1e7, '10M samples', c.prices.prometheus.collectedPer10MSamples,
      `${c.usage.prometheusActiveSeries} active series every ${PROMETHEUS_SCRAPE_SECONDS} s`),
  ],

  'AWS::WAFv2::WebACL': (r, c) => {
    const rules = Array.isArray(r.properties.Rules) ? r.properties.Rules.length : 0;
    return [
      line('web ACL', 1, 'ACL-months', c.prices.wafWebAclMonth),
      line(`${rules} rules (managed rule groups count as one each)`, rules, 'rule-months', c.prices.wafRuleMonth),
      line('WAF requests', c.usage.wafMillionRequests, 'million requests', c.prices.wafMillionRequests, `${c.usage.wafMillionRequests} M requests a month`),
    ];
  },

  'AWS::CloudFront::Distribution': (_r, c) => [
    line('CloudFront data out', c.usage.cloudFrontGbOut, 'GB', c.prices.cloudFrontGbOut, `${c.usage.cloudFrontGbOut} GB a month to viewers (first 10 TB tier, no free tier)`),
    line('CloudFront HTTPS requests', c.usage.cloudFrontMillionRequests * 100, '10k requests', c.prices.cloudFront10kHttpsRequests, `${c.usage.cloudFrontMillionRequests} M requests a month`),
  ],

  'AWS::S3::Bucket': (r, c) => {
    const share = /Uploads|StaticAssets/.test(r.path) ? c.usage.s3GbStored : 0.1 * c.usage.s3GbStored;
    return [line('S3 Standard storage', share, 'GB-months', c.prices.s3StandardGbMonth, `${round(share, 1)} GB stored (${/Uploads|StaticAssets/.test(r.path) ? 'content' : 'logs: 10 % of content'})`)];
  },

  'AWS::Backup::BackupPlan': (_r, c) => [
    line('backup storage (RDS snapshots, S3)', c.usage.backupGbStored, 'GB-months', round((c.prices.backupRdsGbMonth + c.prices.backupS3GbMonth) / 2, 4),
      `${c.usage.backupGbStored} GB of recovery points kept, half RDS and half S3`),
  ],
};

/**
 * Prices one resource: its rule's lines, `free` (listed as such in prices.json), or `unknown`
 * (neither: listed by the plan, never silently zero).
 */
export function priceResource(r: TemplateResource, c: PricingContext): { status: 'priced' | 'free' | 'unknown'; lines: CostLine[] } {
  const rule = PRICING_RULES[r.type];
  if (rule) {
    return { status: 'priced', lines: rule(r, c).map((l) => ({ stack: c.stack, logicalId: r.logicalId, type: r.type, path: r.path, ...l })) };
  }
  if ((c.table.free as Record<string, string>)[r.type] !== undefined) return { status: 'free', lines: [] };
  return { status: 'unknown', lines: [] };
}

/** The price table of a region, or a PlanError naming the regions the table has. */
export function regionPrices(region: string, table: PriceTable = PRICE_TABLE): RegionPrices {
  const prices = (table.regions as Record<string, RegionPrices>)[region];
  if (!prices) {
    throw new PlanError(`no prices for region ${region} in lib/plan/prices.json (has ${Object.keys(table.regions).join(', ')}): add them, or run npm run plan -- --refresh-prices with credentials`);
  }
  return prices;
}
