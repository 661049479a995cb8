import { CLUSTER_VERSIONS } from '../constructs/platform-cluster';
import { InterfaceVpcEndpointAwsService } from 'aws-cdk-lib/aws-ec2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DeploymentSettings, ENVIRONMENT_NAMES, PlatformConfig, ResourceSettings, ShutdownConfig } from './types';

/** Thrown when an environment config is invalid; the message lists every bad field. */
export class ConfigError extends Error {
  constructor(readonly envName: string, readonly problems: string[]) {
    super(`Invalid configuration for environment '${envName}':\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const ACCOUNT = /^\d{12}$/;
const RDS_TYPE = /^[a-z][a-z0-9]*\.[a-z0-9]+$/; // e.g. t4g.medium (without "db.")
const CACHE_TYPE = /^cache\.[a-z][a-z0-9]*\.[a-z0-9]+$/;
const SEARCH_TYPE = /^[a-z][a-z0-9]*\.[a-z0-9]+\.search$/;
const NAME = /^[a-z][a-z0-9-]{1,20}$/;
const DB_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const IAM_PRINCIPAL = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;
const COOKIE = /^[A-Za-z0-9_-]{1,64}$/;
/** Kubernetes versions PlatformCluster knows (a kubectl layer and pinned add-ons each): CLUSTER_VERSIONS' keys. */
export const SUPPORTED_K8S: readonly string[] = Object.keys(CLUSTER_VERSIONS);

/** Prefix length of a CIDR string checked with isCidr. */
const prefixOf = (cidr: string): number => Number(cidr.split('/')[1]);

/** An IPv4 CIDR with every octet 0-255 and a prefix 0-32. */
export function isCidr(v: unknown): v is string {
  const m = typeof v === 'string' ? /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(v) : null;
  return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}

/** True when `name` is a static member of ec2.InterfaceVpcEndpointAwsService (e.g. `ECR_DOCKER`). */
export function isEndpointService(name: unknown): boolean {
  return typeof name === 'string' && /^[A-Z0-9_]+$/.test(name)
    && (InterfaceVpcEndpointAwsService as unknown as Record<string, unknown>)[name] instanceof InterfaceVpcEndpointAwsService;
}

/** The day counts CloudWatch Logs accepts (RetentionDays without INFINITE). */
const RETENTIONS = Object.values(RetentionDays).filter((d): d is number => typeof d === 'number' && d > 0 && d !== RetentionDays.INFINITE);
const isRetention = (v: unknown) => RETENTIONS.includes(v as number);

const isGraviton = (t: string) => /^[a-z]+\d+g[a-z]*\./.test(t);

/** An integer from min to max. */
const isInt = (v: unknown, min: number, max: number): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** A check that records `<prefix><name>: <allowed> (got <value>)` in `problems` when `ok` is false. */
function fieldCheck(problems: string[], prefix = '') {
  return (name: string, ok: boolean, allowed: string, got: unknown): void => {
    if (!ok) problems.push(`${prefix}${name}: ${allowed} (got ${JSON.stringify(got)})`);
  };
}

/** Returns a list of problems, empty when valid. Pure: easy to unit test. */
export function configProblems(c: PlatformConfig): string[] {
  const p: string[] = [];
  const field = fieldCheck(p);
  const str = (v: unknown): v is string => typeof v === 'string';
  const prod = c.envName === 'prod';

  field('envName', (ENVIRONMENT_NAMES as readonly string[]).includes(c.envName), `must be one of ${ENVIRONMENT_NAMES.join(', ')}`, c.envName);
  field('appName', str(c.appName) && NAME.test(c.appName), 'must be lower-case letters, digits and dashes, 2-21 chars, starting with a letter', c.appName);
  field('region', str(c.region) && REGION.test(c.region), 'must be an AWS region name such as eu-west-1', c.region);
  if (c.account !== undefined) field('account', str(c.account) && ACCOUNT.test(c.account), 'must be a 12-digit AWS account id', c.account);
  field('retainData', typeof c.retainData === 'boolean', 'must be true or false', c.retainData);
  if (prod) field('retainData', c.retainData === true, 'must be true in prod (no data store may be deleted with its stack)', c.retainData);
  field('budgetUsdPerMonth', typeof c.budgetUsdPerMonth === 'number' && c.budgetUsdPerMonth >= 1 && c.budgetUsdPerMonth <= 1_000_000,
    'must be a monthly budget in USD from 1 to 1000000 (npm run plan estimates the cost)', c.budgetUsdPerMonth);

  const n = c.network ?? ({} as PlatformConfig['network']);
  const vpcPrefix = isCidr(n.vpcCidr) ? prefixOf(n.vpcCidr) : -1;
  field('network.vpcCidr', vpcPrefix >= 16 && vpcPrefix <= 20, 'must be an IPv4 CIDR with a prefix length from /16 to /20, e.g. 10.20.0.0/16', n.vpcCidr);
  field('network.maxAzs', isInt(n.maxAzs, prod ? 2 : 1, 6), prod ? 'must be an integer from 2 to 6 in prod (Multi-AZ)' : 'must be an integer from 1 to 6', n.maxAzs);
  field('network.natGateways', isInt(n.natGateways, prod ? 2 : 1, Number.isInteger(n.maxAzs) ? n.maxAzs : 6),
    `must be an integer from ${prod ? 2 : 1} to network.maxAzs`, n.natGateways);
  if (n.natInstanceType !== undefined) {
    field('network.natInstanceType', str(n.natInstanceType) && /^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(n.natInstanceType), 'must be an EC2 instance type like t4g.nano', n.natInstanceType);
    field('network.natInstanceType', !c.retainData, 'must be unset where retainData is true: a NAT instance is one host with no managed failover (use NAT gateways)', n.natInstanceType);
  }
  field('network.interfaceEndpoints', Array.isArray(n.interfaceEndpoints) && n.interfaceEndpoints.every(isEndpointService),
    'must be a list of ec2.InterfaceVpcEndpointAwsService member names such as ECR, STS, SECRETS_MANAGER', n.interfaceEndpoints);
  if (n.availabilityZones !== undefined) {
    field('network.availabilityZones', Array.isArray(n.availabilityZones) && n.availabilityZones.length === n.maxAzs
      && n.availabilityZones.every((z) => str(z) && str(c.region) && z.startsWith(c.region) && /^[a-z]$/.test(z.slice(c.region.length))),
      `must list network.maxAzs (${n.maxAzs}) zone names in the region, like ${c.region}a`, n.availabilityZones);
  }
  field('network.flowLogRetentionDays', isRetention(n.flowLogRetentionDays), `must be a CloudWatch Logs retention: one of ${RETENTIONS.join(', ')}`, n.flowLogRetentionDays);
  if (n.existingVpc) {
    const e = n.existingVpc;
    field('network.existingVpc.vpcId', str(e.vpcId) && VPC_ID.test(e.vpcId), 'must look like vpc-0123456789abcdef0', e.vpcId);
    field('network.existingVpc.vpcCidr', isCidr(e.vpcCidr), 'must be the IPv4 CIDR of the existing VPC, e.g. 10.0.0.0/16', e.vpcCidr);
    for (const kind of ['publicSubnetIds', 'privateSubnetIds', 'isolatedSubnetIds'] as const) {
      const ids = e[kind];
      field(`network.existingVpc.${kind}`, Array.isArray(ids) && ids.length === n.maxAzs && ids.every((s) => str(s) && SUBNET_ID.test(s)),
        `must list network.maxAzs (${n.maxAzs}) subnet ids like subnet-0123456789abcdef0, one per AZ`, ids);
    }
  }

  const m = c.mysql ?? ({} as PlatformConfig['mysql']);
  field('mysql.instanceType', str(m.instanceType) && RDS_TYPE.test(m.instanceType), 'must be an instance type without the db. prefix, e.g. t4g.medium', m.instanceType);
  field('mysql.multiAz', typeof m.multiAz === 'boolean' && (!prod || m.multiAz), prod ? 'must be true in prod' : 'must be true or false', m.multiAz);
  field('mysql.allocatedStorageGiB', isInt(m.allocatedStorageGiB, 20, 65536), 'must be an integer from 20 to 65536', m.allocatedStorageGiB);
  field('mysql.maxAllocatedStorageGiB', isInt(m.maxAllocatedStorageGiB, Number.isInteger(m.allocatedStorageGiB) ? m.allocatedStorageGiB : 20, 65536),
    'must be an integer from mysql.allocatedStorageGiB to 65536', m.maxAllocatedStorageGiB);
  field('mysql.backupRetentionDays', isInt(m.backupRetentionDays, 7, 35), 'must be an integer from 7 to 35 (Control Tower CT.RDS.PR.8)', m.backupRetentionDays);
  field('mysql.databaseName', str(m.databaseName) && DB_NAME.test(m.databaseName), 'must be a MySQL identifier: a letter, then letters, digits or _', m.databaseName);

  const r = c.redis ?? ({} as PlatformConfig['redis']);
  field('redis.engine', r.engine === 'redis' || r.engine === 'valkey', "must be 'redis' or 'valkey'", r.engine);
  field('redis.nodeType', str(r.nodeType) && CACHE_TYPE.test(r.nodeType), 'must be an ElastiCache node type such as cache.t4g.small', r.nodeType);
  field('redis.shards', isInt(r.shards, 1, 500), 'must be an integer from 1 to 500', r.shards);
  field('redis.replicasPerShard', isInt(r.replicasPerShard, 1, 5), 'must be an integer from 1 to 5 (automatic failover needs a replica)', r.replicasPerShard);
  field('redis.snapshotRetentionDays', isInt(r.snapshotRetentionDays, prod ? 1 : 0, 35), `must be an integer from ${prod ? 1 : 0} to 35`, r.snapshotRetentionDays);

  const s = c.search ?? ({} as PlatformConfig['search']);
  field('search.dataNodeType', str(s.dataNodeType) && SEARCH_TYPE.test(s.dataNodeType), 'must be an OpenSearch instance type such as r7g.large.search', s.dataNodeType);
  field('search.zoneCount', isInt(s.zoneCount, prod ? 2 : 1, 3), prod ? 'must be 2 or 3 in prod' : 'must be 1, 2 or 3', s.zoneCount);
  field('search.dataNodes', isInt(s.dataNodes, 1, 80) && (!Number.isInteger(s.zoneCount) || s.dataNodes % s.zoneCount === 0),
    'must be an integer from 1 to 80 and a multiple of search.zoneCount', s.dataNodes);
  if (Number.isInteger(s.zoneCount) && Number.isInteger(n.maxAzs)) {
    field('search.zoneCount', s.zoneCount <= n.maxAzs, 'must not exceed network.maxAzs', s.zoneCount);
  }
  if (s.masterNodeType !== undefined || s.masterNodes !== undefined) {
    field('search.masterNodeType', str(s.masterNodeType) && SEARCH_TYPE.test(s.masterNodeType), 'must be an OpenSearch instance type such as m7g.large.search', s.masterNodeType);
    field('search.masterNodes', s.masterNodes === 3 || s.masterNodes === 5, 'must be 3 or 5 when dedicated masters are used', s.masterNodes);
  }
  field('search.volumeSizeGiB', isInt(s.volumeSizeGiB, 10, 16384), 'must be an integer from 10 to 16384', s.volumeSizeGiB);

  const b = c.buckets ?? ({} as PlatformConfig['buckets']);
  field('buckets.noncurrentVersionExpirationDays', isInt(b.noncurrentVersionExpirationDays, 1, 3650), 'must be an integer from 1 to 3650', b.noncurrentVersionExpirationDays);
  field('buckets.accessLogRetentionDays', isInt(b.accessLogRetentionDays, 1, 3650), 'must be an integer from 1 to 3650', b.accessLogRetentionDays);
  field('buckets.uploadCorsOrigins', Array.isArray(b.uploadCorsOrigins) && b.uploadCorsOrigins.length > 0 && b.uploadCorsOrigins.every((o) => str(o) && /^https?:\/\/[^/\s*]+$/.test(o)),
    'must be a non-empty list of origins like https://www.example.com (no wildcard, no path)', b.uploadCorsOrigins);

  const bk = c.backup;
  if (bk === undefined) {
    if (c.envName !== 'dev') p.push(`backup: must be set in ${c.envName} (an AWS Backup plan for RDS and the uploads bucket: retentionDays, vaultLock, optional copyRegion)`);
  } else {
    field('backup.retentionDays', isInt(bk.retentionDays, 7, 3650), 'must be an integer from 7 to 3650', bk.retentionDays);
    field('backup.vaultLock', ['none', 'governance', 'compliance'].includes(bk.vaultLock), "must be 'none', 'governance' or 'compliance'", bk.vaultLock);
    if (prod) field('backup.vaultLock', bk.vaultLock === 'governance' || bk.vaultLock === 'compliance', "must be 'governance' or 'compliance' in prod (the vault is locked)", bk.vaultLock);
    if (bk.copyRegion !== undefined) {
      field('backup.copyRegion', str(bk.copyRegion) && REGION.test(bk.copyRegion) && bk.copyRegion !== c.region, `must be an AWS region name other than region (${c.region})`, bk.copyRegion);
    }
    if (bk.copyRetentionDays !== undefined) {
      field('backup.copyRetentionDays', isInt(bk.copyRetentionDays, 7, 3650) && bk.copyRegion !== undefined, 'must be an integer from 7 to 3650, and only with backup.copyRegion', bk.copyRetentionDays);
    }
  }

  const k = c.cluster ?? ({} as PlatformConfig['cluster']);
  field('cluster.kubernetesVersion', str(k.kubernetesVersion) && SUPPORTED_K8S.includes(k.kubernetesVersion),
    `must be one of ${SUPPORTED_K8S.join(', ')} (the versions PlatformCluster pins a kubectl layer and add-ons for)`, k.kubernetesVersion);
  field('cluster.endpointAccess', ['private', 'public-and-private'].includes(k.endpointAccess),
    "must be 'private' or 'public-and-private'", k.endpointAccess);
  if (prod) field('cluster.endpointAccess', k.endpointAccess === 'private', "must be 'private' in prod", k.endpointAccess);
  field('cluster.publicAccessCidrs', Array.isArray(k.publicAccessCidrs) && k.publicAccessCidrs.every(isCidr)
    && (k.endpointAccess === 'private' || (k.publicAccessCidrs.length > 0 && !k.publicAccessCidrs.includes('0.0.0.0/0'))),
    'must be a list of IPv4 CIDRs; non-empty and without 0.0.0.0/0 when the endpoint is public', k.publicAccessCidrs);
  field('cluster.nodeInstanceTypes', Array.isArray(k.nodeInstanceTypes) && k.nodeInstanceTypes.length > 0
    && k.nodeInstanceTypes.every((t) => str(t) && RDS_TYPE.test(t)) && new Set(k.nodeInstanceTypes.map(isGraviton)).size === 1,
    'must be a non-empty list of EC2 instance types of one CPU architecture, e.g. ["m7g.large"]', k.nodeInstanceTypes);
  field('cluster.capacityType', k.capacityType === 'ON_DEMAND' || k.capacityType === 'SPOT', "must be 'ON_DEMAND' or 'SPOT'", k.capacityType);
  field('cluster.minNodes', isInt(k.minNodes, prod ? 2 : 1, 100), `must be an integer from ${prod ? 2 : 1} to 100`, k.minNodes);
  field('cluster.maxNodes', isInt(k.maxNodes, Number.isInteger(k.minNodes) ? k.minNodes : 1, 100), 'must be an integer from cluster.minNodes to 100', k.maxNodes);
  field('cluster.desiredNodes', isInt(k.desiredNodes, Number.isInteger(k.minNodes) ? k.minNodes : 1, Number.isInteger(k.maxNodes) ? k.maxNodes : 100),
    'must be an integer from cluster.minNodes to cluster.maxNodes', k.desiredNodes);
  field('cluster.nodeDiskGiB', isInt(k.nodeDiskGiB, 20, 16384), 'must be an integer from 20 to 16384', k.nodeDiskGiB);
  field('cluster.maxPodsPerNode', k.maxPodsPerNode === undefined || isInt(k.maxPodsPerNode, 8, 110), 'must be an integer from 8 to 110 when set (pods per node with prefix delegation)', k.maxPodsPerNode);
  field('cluster.adminPrincipalArns', Array.isArray(k.adminPrincipalArns) && k.adminPrincipalArns.every((a) => str(a) && IAM_PRINCIPAL.test(a)),
    'must be a list of IAM role or user ARNs', k.adminPrincipalArns);
  field('cluster.logRetentionDays', isRetention(k.logRetentionDays), `must be a CloudWatch Logs retention: one of ${RETENTIONS.join(', ')}`, k.logRetentionDays);

  const e = c.edge ?? ({} as PlatformConfig['edge']);
  // One rule for domain and certificates: all three or none, and all three outside dev (end-to-end TLS).
  const tls = { domainName: e.domainName, cdnCertificateArn: e.cdnCertificateArn, albCertificateArn: e.albCertificateArn };
  const tlsSet = Object.values(tls).some((v) => v !== undefined);
  const tlsRequired = c.envName !== 'dev';
  const why = tlsRequired
    ? `required in ${c.envName}: CloudFront and the ALB serve end-to-end TLS with edge.domainName, edge.cdnCertificateArn and edge.albCertificateArn`
    : 'edge.domainName, edge.cdnCertificateArn and edge.albCertificateArn go together (or leave all three out in dev)';
  if (tlsRequired || tlsSet) {
    field('edge.domainName', str(e.domainName) && /^([a-z0-9-]+\.)+[a-z]{2,}$/.test(e.domainName),
      `must be a lower-case DNS name such as www.example.com; ${why}`, e.domainName);
    field('edge.cdnCertificateArn', str(e.cdnCertificateArn) && /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/.test(e.cdnCertificateArn),
      `must be an ACM certificate ARN in us-east-1 (CloudFront) covering edge.domainName; ${why}`, e.cdnCertificateArn);
    const albRegion = str(e.albCertificateArn) ? e.albCertificateArn.split(':')[3] : undefined;
    field('edge.albCertificateArn', str(e.albCertificateArn) && /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/.test(e.albCertificateArn) && albRegion === c.region,
      `must be an ACM certificate ARN in the app's region (${c.region}) covering edge.domainName; ${why}`, e.albCertificateArn);
  }
  field('edge.gatewayPort', isInt(e.gatewayPort, 1024, 65535), 'must be an integer port from 1024 to 65535', e.gatewayPort);
  field('edge.healthCheckPath', str(e.healthCheckPath) && /^\/[A-Za-z0-9/_.-]*$/.test(e.healthCheckPath), 'must be a path starting with /', e.healthCheckPath);
  field('edge.deregistrationDelaySeconds', isInt(e.deregistrationDelaySeconds, 0, 3600), 'must be an integer from 0 to 3600', e.deregistrationDelaySeconds);
  field('edge.slowStartSeconds', e.slowStartSeconds === 0 || isInt(e.slowStartSeconds, 30, 900), 'must be 0 (off) or an integer from 30 to 900', e.slowStartSeconds);
  const st = e.stickiness ?? ({} as PlatformConfig['edge']['stickiness']);
  field('edge.stickiness.mode', st.mode === 'lb_cookie' || st.mode === 'app_cookie', "must be 'lb_cookie' or 'app_cookie'", st.mode);
  field('edge.stickiness.durationSeconds', isInt(st.durationSeconds, 1, 604800), 'must be an integer from 1 to 604800 (7 days)', st.durationSeconds);
  if (st.mode === 'app_cookie') {
    field('edge.stickiness.appCookieName', str(st.appCookieName) && COOKIE.test(st.appCookieName) && !/^AWSALB/i.test(st.appCookieName),
      'must be a cookie name (letters, digits, _ -) not starting with AWSALB when mode is app_cookie', st.appCookieName);
  }
  field('edge.sessionCookieName', str(e.sessionCookieName) && COOKIE.test(e.sessionCookieName), 'must be a cookie name of letters, digits, _ or -', e.sessionCookieName);
  field('edge.apiDefaultTtlSeconds', isInt(e.apiDefaultTtlSeconds, 0, 3600), 'must be an integer from 0 to 3600', e.apiDefaultTtlSeconds);
  field('edge.priceClass', ['100', '200', 'All'].includes(e.priceClass), "must be '100', '200' or 'All'", e.priceClass);
  const w = e.waf ?? ({} as PlatformConfig['edge']['waf']);
  field('edge.waf.rateLimitPer5Min', isInt(w.rateLimitPer5Min, 10, 2_000_000_000), 'must be an integer from 10 to 2000000000', w.rateLimitPer5Min);
  field('edge.waf.allowCidrs', Array.isArray(w.allowCidrs) && w.allowCidrs.every(isCidr), 'must be a list of IPv4 CIDRs', w.allowCidrs);
  field('edge.waf.denyCidrs', Array.isArray(w.denyCidrs) && w.denyCidrs.every(isCidr), 'must be a list of IPv4 CIDRs', w.denyCidrs);
  p.push(...timeoutProblems(c));
  p.push(...observabilityProblems(c));
  p.push(...workloadProblems(c));
  return p;
}

/** The timeout chain must nest: service < gateway < load balancer < CDN, each with room to answer. */
function timeoutProblems(c: PlatformConfig): string[] {
  const t = c.timeouts;
  if (!t || typeof t !== 'object') return ['timeouts: must be set (serviceRequestMs, gatewayUpstreamMs, loadBalancerIdleSeconds, cdnOriginReadSeconds)'];
  const p: string[] = [];
  const field = fieldCheck(p, 'timeouts.');
  field('serviceRequestMs', isInt(t.serviceRequestMs, 100, 600_000), 'must be an integer from 100 to 600000', t.serviceRequestMs);
  field('gatewayUpstreamMs', isInt(t.gatewayUpstreamMs, 100, 600_000), 'must be an integer from 100 to 600000', t.gatewayUpstreamMs);
  field('loadBalancerIdleSeconds', isInt(t.loadBalancerIdleSeconds, 1, 4000), 'must be an integer from 1 to 4000 (ALB idle timeout)', t.loadBalancerIdleSeconds);
  field('cdnOriginReadSeconds', isInt(t.cdnOriginReadSeconds, 1, 60), 'must be an integer from 1 to 60 (CloudFront origin read timeout without a quota increase)', t.cdnOriginReadSeconds);
  if (p.length) return p;
  // Each outer layer waits longer than the inner one answers: 500 ms of room for the answer to travel.
  field('gatewayUpstreamMs', t.gatewayUpstreamMs >= t.serviceRequestMs + 500, `must exceed timeouts.serviceRequestMs (${t.serviceRequestMs}) by 500 ms or more, so a service's own 503 reaches the client`, t.gatewayUpstreamMs);
  field('loadBalancerIdleSeconds', t.loadBalancerIdleSeconds * 1000 >= t.gatewayUpstreamMs + 1000, `must exceed timeouts.gatewayUpstreamMs (${t.gatewayUpstreamMs} ms) by a second or more`, t.loadBalancerIdleSeconds);
  field('cdnOriginReadSeconds', t.cdnOriginReadSeconds > t.loadBalancerIdleSeconds, `must exceed timeouts.loadBalancerIdleSeconds (${t.loadBalancerIdleSeconds} s)`, t.cdnOriginReadSeconds);
  return p;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Alarm endpoints, log retention, SLOs and tracing (`observability.*`). */
function observabilityProblems(c: PlatformConfig): string[] {
  const o = c.observability;
  if (!o || typeof o !== 'object') return ['observability: must be set (alarmEmails, alarmHttpsEndpoints, logRetentionDays, slo, tracing, managedPrometheus)'];
  const p: string[] = [];
  const field = fieldCheck(p, 'observability.');
  const num = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
  field('alarmEmails', Array.isArray(o.alarmEmails) && o.alarmEmails.every((e) => typeof e === 'string' && EMAIL.test(e)), 'must be a list of email addresses (may be empty)', o.alarmEmails);
  field('alarmHttpsEndpoints', Array.isArray(o.alarmHttpsEndpoints) && o.alarmHttpsEndpoints.every((u) => typeof u === 'string' && /^https:\/\/[^\s/]+/.test(u)), 'must be a list of https:// URLs (may be empty)', o.alarmHttpsEndpoints);
  field('logRetentionDays', isRetention(o.logRetentionDays), `must be one of ${RETENTIONS.join(', ')}`, o.logRetentionDays);
  field('slo.availability', num(o.slo?.availability, 0.9, 0.99999), 'must be a ratio from 0.9 to 0.99999, e.g. 0.999', o.slo?.availability);
  field('slo.latencyP99Ms', Number.isInteger(o.slo?.latencyP99Ms) && num(o.slo?.latencyP99Ms, 10, 60_000), 'must be an integer number of milliseconds from 10 to 60000', o.slo?.latencyP99Ms);
  field('tracing.enabled', typeof o.tracing?.enabled === 'boolean', 'must be true or false', o.tracing?.enabled);
  field('tracing.sampleRatio', num(o.tracing?.sampleRatio, 0, 1), 'must be a ratio from 0 to 1', o.tracing?.sampleRatio);
  field('managedPrometheus', typeof o.managedPrometheus === 'boolean', 'must be true or false', o.managedPrometheus);
  if (p.length) return p;
  // An objective the gateway cannot meet by construction: its own upstream timeout is shorter.
  if (c.timeouts && o.slo.latencyP99Ms >= c.timeouts.gatewayUpstreamMs) {
    p.push(`observability.slo.latencyP99Ms: must be below timeouts.gatewayUpstreamMs (${c.timeouts.gatewayUpstreamMs}) (got ${o.slo.latencyP99Ms})`);
  }
  return p;
}

/**
 * The pod's grace period, derived from the shutdown path so they cannot drift: preStop wait, then
 * the kit's grace and drain, plus 5 s for the process to exit.
 */
export function terminationGraceSeconds(s: ShutdownConfig): number {
  return s.preStopSeconds + Math.ceil((s.graceMs + s.drainMs) / 1000) + 5;
}

/** The kubectl handler (a Lambda) runs 15 min at most: the smoke gate's wait stays inside it. */
export const SMOKE_GATE_MAX_SECONDS = 840;
/** What the gate waits beyond the smoke Job's deadline: pods scheduled and pulled. */
export const SMOKE_GATE_MARGIN_SECONDS = 120;

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const CRON = /^(\S+\s+){4}\S+$/;

function workloadProblems(c: PlatformConfig): string[] {
  const p: string[] = [];
  const field = fieldCheck(p, 'workloads.');
  const str = (v: unknown): v is string => typeof v === 'string';
  const w = c.workloads;
  if (!w || typeof w !== 'object') return ['workloads: must be set (namespace, shutdown, registry, gateway, services, jobs)'];
  const prod = c.envName === 'prod';
  const resources = (name: string, r: ResourceSettings | undefined) => {
    const ok = !!r && isInt(r.cpuRequestMillis, 10, 64_000) && isInt(r.cpuLimitMillis, 10, 64_000) && isInt(r.memoryRequestMiB, 32, 262_144) && isInt(r.memoryLimitMiB, 32, 262_144)
      && r.cpuLimitMillis >= r.cpuRequestMillis && r.memoryLimitMiB >= r.memoryRequestMiB;
    field(`${name}.resources`, ok, 'must give cpuRequestMillis <= cpuLimitMillis (10-64000) and memoryRequestMiB <= memoryLimitMiB (32-262144)', r);
  };
  const deployment = (name: string, d: DeploymentSettings | undefined) => {
    const sc = d?.scale;
    field(`${name}.scale`, !!sc && isInt(sc.minReplicas, prod ? 2 : 1, 100) && isInt(sc.maxReplicas, sc.minReplicas, 100) && isInt(sc.targetCpuPercent, 10, 100),
      `must give minReplicas ${prod ? '2' : '1'}-100, maxReplicas from minReplicas to 100, targetCpuPercent 10-100${prod ? ' (prod keeps two replicas for its PDB)' : ''}`, sc);
    resources(name, d?.resources);
  };
  field('namespace', str(w.namespace) && DNS_LABEL.test(w.namespace), 'must be a DNS label (lower-case letters, digits, -)', w.namespace);
  if (w.image !== undefined) {
    field('image.repository', str(w.image.repository) && /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/.test(w.image.repository), 'must be an image repository such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/platform-services', w.image.repository);
    field('image.tag', str(w.image.tag) && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(w.image.tag) && w.image.tag !== 'latest', 'must be an immutable tag (not latest)', w.image.tag);
  }
  field('adminEmail', str(w.adminEmail) && EMAIL.test(w.adminEmail), 'must be an email address (the bootstrap admin)', w.adminEmail);
  field('logLevel', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(w.logLevel), 'must be one of fatal, error, warn, info, debug, trace', w.logLevel);
  const sd = w.shutdown ?? ({} as ShutdownConfig);
  field('shutdown.preStopSeconds', isInt(sd.preStopSeconds, 1, 120), 'must be an integer from 1 to 120', sd.preStopSeconds);
  field('shutdown.graceMs', isInt(sd.graceMs, 0, 60_000), 'must be an integer from 0 to 60000', sd.graceMs);
  field('shutdown.drainMs', isInt(sd.drainMs, 1000, 300_000), 'must be an integer from 1000 to 300000', sd.drainMs);
  if (isInt(sd.preStopSeconds, 1, 120) && isInt(sd.graceMs, 0, 60_000) && isInt(sd.drainMs, 1000, 300_000) && Number.isInteger(c.edge?.deregistrationDelaySeconds)) {
    const grace = terminationGraceSeconds(sd);
    if (c.edge.deregistrationDelaySeconds > grace) {
      p.push(`workloads.shutdown: the pod's grace period (preStopSeconds + graceMs + drainMs + 5 s = ${grace} s) must cover edge.deregistrationDelaySeconds `
        + `(${c.edge.deregistrationDelaySeconds} s): the ALB would keep sending in-flight requests to a pod already killed`);
    }
  }
  const r = w.registry ?? ({} as PlatformConfig['workloads']['registry']);
  field('registry.image', str(r.image) && /:v?3\.\d+\.\d+$/.test(r.image), 'must be an etcd 3.x image pinned by version, like gcr.io/etcd-development/etcd:v3.6.16', r.image);
  field('registry.members', r.members === 3 || r.members === 5, 'must be 3 or 5 (an odd quorum)', r.members);
  if (Number.isInteger(c.cluster?.desiredNodes) && (r.members === 3 || r.members === 5)) {
    // Each member must land on a node of its own (required anti-affinity): fewer nodes, no quorum.
    field('registry.members', c.cluster.desiredNodes >= r.members, `must not exceed cluster.desiredNodes (${c.cluster.desiredNodes}): each etcd member needs a node of its own`, r.members);
  }
  field('registry.storageGiB', isInt(r.storageGiB, 1, 1000), 'must be an integer from 1 to 1000', r.storageGiB);
  field('registry.quotaMiB', isInt(r.quotaMiB, 256, 8192), 'must be an integer from 256 to 8192 (etcd supports up to 8 GiB)', r.quotaMiB);
  field('registry.compactionRetention', str(r.compactionRetention) && /^\d+[hm]$/.test(r.compactionRetention), 'must be a duration like 1h or 30m', r.compactionRetention);
  resources('registry', r.resources);
  const g = w.gateway ?? ({} as PlatformConfig['workloads']['gateway']);
  deployment('gateway', g);
  field('gateway.jwtIssuer', str(g.jwtIssuer) && g.jwtIssuer.length > 0, 'must be a non-empty string', g.jwtIssuer);
  field('gateway.jwtAudience', str(g.jwtAudience) && g.jwtAudience.length > 0, 'must be a non-empty string', g.jwtAudience);
  field('gateway.corsOrigins', Array.isArray(g.corsOrigins) && g.corsOrigins.every((o) => str(o) && /^https?:\/\/[^/\s*,]+$/.test(o)), 'must be a list of origins like https://www.example.com (no wildcard)', g.corsOrigins);
  for (const name of ['user', 'catalog', 'order'] as const) deployment(`services.${name}`, w.services?.[name]);
  const sm = w.smoke ?? ({} as PlatformConfig['workloads']['smoke']);
  field('smoke.gate', typeof sm.gate === 'boolean', 'must be true or false', sm.gate);
  field('smoke.checkout', typeof sm.checkout === 'boolean' && (!prod || !sm.checkout), prod ? 'must be false in prod (a checkout takes real stock)' : 'must be true or false', sm.checkout);
  field('smoke.stepBudgetMs', isInt(sm.stepBudgetMs, 50, 60_000), 'must be an integer from 50 to 60000', sm.stepBudgetMs);
  field('smoke.deadlineSeconds', isInt(sm.deadlineSeconds, 60, SMOKE_GATE_MAX_SECONDS - SMOKE_GATE_MARGIN_SECONDS),
    `must be an integer from 60 to ${SMOKE_GATE_MAX_SECONDS - SMOKE_GATE_MARGIN_SECONDS} (the gate waits it + ${SMOKE_GATE_MARGIN_SECONDS} s inside the kubectl handler's ${SMOKE_GATE_MAX_SECONDS} s)`, sm.deadlineSeconds);
  const lg = w.loadgen ?? ({} as PlatformConfig['workloads']['loadgen']);
  field('loadgen.enabled', typeof lg.enabled === 'boolean', 'must be true or false', lg.enabled);
  field('loadgen.ratePerSecond', isInt(lg.ratePerSecond, 1, 1000), 'must be an integer from 1 to 1000', lg.ratePerSecond);
  field('loadgen.concurrency', isInt(lg.concurrency, 1, 200), 'must be an integer from 1 to 200', lg.concurrency);
  const ot = w.jobs?.orderTimeout ?? ({} as PlatformConfig['workloads']['jobs']['orderTimeout']);
  field('jobs.orderTimeout.schedule', str(ot.schedule) && CRON.test(ot.schedule.trim()), 'must be a 5-field cron expression', ot.schedule);
  field('jobs.orderTimeout.shards', isInt(ot.shards, 1, 100), 'must be an integer from 1 to 100', ot.shards);
  field('jobs.orderTimeout.timeoutMinutes', isInt(ot.timeoutMinutes, 1, 10_080), 'must be an integer from 1 to 10080', ot.timeoutMinutes);
  field('jobs.orderTimeout.activeDeadlineSeconds', isInt(ot.activeDeadlineSeconds, 10, 86_400), 'must be an integer from 10 to 86400', ot.activeDeadlineSeconds);
  field('jobs.orderTimeout.backoffLimit', isInt(ot.backoffLimit, 0, 10), 'must be an integer from 0 to 10', ot.backoffLimit);
  resources('jobs.orderTimeout', ot.resources);
  const ss = w.jobs?.searchSync ?? ({} as PlatformConfig['workloads']['jobs']['searchSync']);
  field('jobs.searchSync.schedule', str(ss.schedule) && CRON.test(ss.schedule.trim()), 'must be a 5-field cron expression', ss.schedule);
  field('jobs.searchSync.activeDeadlineSeconds', isInt(ss.activeDeadlineSeconds, 60, 86_400), 'must be an integer from 60 to 86400', ss.activeDeadlineSeconds);
  field('jobs.searchSync.backoffLimit', isInt(ss.backoffLimit, 0, 10), 'must be an integer from 0 to 10', ss.backoffLimit);
  resources('jobs.searchSync', ss.resources);
  deployment('jobs.searchSync.follow', ss.follow);
  return p;
}

/** Throws a ConfigError naming every invalid field. */
export function validateConfig(c: PlatformConfig): PlatformConfig {
  const problems = configProblems(c);
  if (problems.length > 0) throw new ConfigError(String(c?.envName), problems);
  return c;
}
