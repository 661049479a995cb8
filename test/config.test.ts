import { ConfigError, configProblems, ENVIRONMENTS, loadConfig, PlatformConfig, SUPPORTED_K8S } from '../lib/config';
import { CLUSTER_VERSIONS } from '../lib/constructs/platform-cluster';

/** A valid config with one field replaced, deep: set(prod, 'redis.shards', 0). */
function withField(base: PlatformConfig, path: string, value: unknown): PlatformConfig {
  const copy = JSON.parse(JSON.stringify(base));
  const keys = path.split('.');
  let node = copy;
  for (const k of keys.slice(0, -1)) node = node[k];
  node[keys[keys.length - 1]] = value;
  return copy;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('environment configs', () => {
  test.each(['dev', 'staging', 'prod'])('%s is valid', (env) => {
    expect(configProblems(ENVIRONMENTS[env as 'dev'])).toEqual([]);
    expect(loadConfig(env).envName).toBe(env);
  });

  test('defaults to dev and takes the account from CDK_DEFAULT_ACCOUNT', () => {
    const before = process.env.CDK_DEFAULT_ACCOUNT;
    process.env.CDK_DEFAULT_ACCOUNT = '123456789012';
    try {
      expect(loadConfig(undefined)).toMatchObject({ envName: 'dev', account: '123456789012' });
    } finally {
      if (before === undefined) delete process.env.CDK_DEFAULT_ACCOUNT; else process.env.CDK_DEFAULT_ACCOUNT = before;
    }
  });

  test('prod differs where it should: Multi-AZ, retention, private endpoint', () => {
    const prod = loadConfig('prod');
    expect(prod.retainData).toBe(true);
    expect(prod.mysql.multiAz).toBe(true);
    expect(prod.network.maxAzs).toBeGreaterThanOrEqual(2);
    expect(prod.search.zoneCount).toBeGreaterThanOrEqual(2);
    expect(prod.cluster.endpointAccess).toBe('private');
    expect(loadConfig('dev').retainData).toBe(false);
  });

  test('an unknown environment names the env field and the allowed names', () => {
    const e = errorOf(() => loadConfig('qa'));
    expect(e.message).toContain('env: must be one of dev, staging, prod (got "qa")');
  });

  const prod = ENVIRONMENTS.prod;
  const staging = ENVIRONMENTS.staging;
  const dev = ENVIRONMENTS.dev;
  test.each<[string, PlatformConfig, string, unknown, RegExp]>([
    ['bad CIDR', dev, 'network.vpcCidr', '10.300.0.0/16', /network\.vpcCidr: must be an IPv4 CIDR .* \(got "10\.300\.0\.0\/16"\)/],
    ['CIDR too small for the subnets', dev, 'network.vpcCidr', '10.0.0.0/24', /network\.vpcCidr: .*\/16 to \/20/],
    ['1 AZ in prod', prod, 'network.maxAzs', 1, /network\.maxAzs: must be an integer from 2 to 6 in prod \(Multi-AZ\) \(got 1\)/],
    ['more NATs than AZs', dev, 'network.natGateways', 5, /network\.natGateways: must be an integer from 1 to network\.maxAzs/],
    ['a NAT instance where data is retained', staging, 'network.natInstanceType', 't4g.nano', /network\.natInstanceType: must be unset where retainData is true: a NAT instance is one host with no managed failover .* \(got "t4g\.nano"\)/],
    ['a NAT instance type that is not one', dev, 'network.natInstanceType', 'nano', /network\.natInstanceType: must be an EC2 instance type like t4g\.nano \(got "nano"\)/],
    ['managed Prometheus neither on nor off', dev, 'observability.managedPrometheus', 'yes', /observability\.managedPrometheus: must be true or false \(got "yes"\)/],
    ['unknown interface endpoint', dev, 'network.interfaceEndpoints', ['ECRR'], /network\.interfaceEndpoints: must be a list of ec2\.InterfaceVpcEndpointAwsService member names/],
    ['no monthly budget', prod, 'budgetUsdPerMonth', undefined, /budgetUsdPerMonth: must be a monthly budget in USD from 1 to 1000000 .* \(got undefined\)/],
    ['an alarm email that is not one', prod, 'observability.alarmEmails', ['oncall'], /observability\.alarmEmails: must be a list of email addresses \(may be empty\) \(got \["oncall"\]\)/],
    ['a plain-http alarm endpoint', dev, 'observability.alarmHttpsEndpoints', ['http://hooks.example.com/x'], /observability\.alarmHttpsEndpoints: must be a list of https:\/\/ URLs/],
    ['a log retention CloudWatch refuses', dev, 'observability.logRetentionDays', 10, /observability\.logRetentionDays: must be one of 1, 3, 5, 7, 14/],
    ['an SLO of 100 %', prod, 'observability.slo.availability', 1, /observability\.slo\.availability: must be a ratio from 0\.9 to 0\.99999/],
    ['a latency SLO beyond the gateway timeout', prod, 'observability.slo.latencyP99Ms', 6000, /observability\.slo\.latencyP99Ms: must be below timeouts\.gatewayUpstreamMs \(5000\) \(got 6000\)/],
    ['a sampling ratio above 1', dev, 'observability.tracing.sampleRatio', 2, /observability\.tracing\.sampleRatio: must be a ratio from 0 to 1 \(got 2\)/],
    ['a pod limit above 110', dev, 'cluster.maxPodsPerNode', 200, /cluster\.maxPodsPerNode: must be an integer from 8 to 110 when set .* \(got 200\)/],
    ['0 Redis shards', dev, 'redis.shards', 0, /redis\.shards: must be an integer from 1 to 500 \(got 0\)/],
    ['no Redis replica', dev, 'redis.replicasPerShard', 0, /redis\.replicasPerShard: .*automatic failover needs a replica/],
    ['instance type that is a number', dev, 'mysql.instanceType', 42, /mysql\.instanceType: must be an instance type without the db\. prefix, e\.g\. t4g\.medium \(got 42\)/],
    ['instance type with the db. prefix', dev, 'mysql.instanceType', 'db.t4g.medium', /mysql\.instanceType: .*\(got "db\.t4g\.medium"\)/],
    ['cache node type without cache.', dev, 'redis.nodeType', 't4g.small', /redis\.nodeType: must be an ElastiCache node type/],
    ['search type without .search', dev, 'search.dataNodeType', 'r7g.large', /search\.dataNodeType: must be an OpenSearch instance type/],
    ['data nodes not a multiple of zones', prod, 'search.dataNodes', 4, /search\.dataNodes: .*multiple of search\.zoneCount/],
    ['single-AZ MySQL in prod', prod, 'mysql.multiAz', false, /mysql\.multiAz: must be true in prod/],
    ['prod without data retention', prod, 'retainData', false, /retainData: must be true in prod/],
    ['backups under a week', dev, 'mysql.backupRetentionDays', 1, /mysql\.backupRetentionDays: must be an integer from 7 to 35/],
    ['public EKS endpoint in prod', prod, 'cluster.endpointAccess', 'public-and-private', /cluster\.endpointAccess: must be 'private' in prod/],
    ['unknown endpoint mode', dev, 'cluster.endpointAccess', 'public', /cluster\.endpointAccess: must be 'private' or 'public-and-private'/],
    ['public endpoint open to the world', dev, 'cluster.publicAccessCidrs', ['0.0.0.0/0'], /cluster\.publicAccessCidrs: .*without 0\.0\.0\.0\/0/],
    ['Kubernetes version without a kubectl layer', dev, 'cluster.kubernetesVersion', '1.37', /cluster\.kubernetesVersion: must be one of 1\.35/],
    ['mixed CPU architectures', dev, 'cluster.nodeInstanceTypes', ['m7g.large', 'm7i.large'], /cluster\.nodeInstanceTypes: .*one CPU architecture/],
    ['desired nodes above max', dev, 'cluster.desiredNodes', 9, /cluster\.desiredNodes: must be an integer from cluster\.minNodes to cluster\.maxNodes/],
    ['AWSALB app cookie', prod, 'edge.stickiness.appCookieName', 'AWSALBX', /edge\.stickiness\.appCookieName: .*not starting with AWSALB/],
    ['ALB certificate without a domain', dev, 'edge.albCertificateArn', 'arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666', /edge\.domainName: must be a lower-case DNS name .*; edge\.domainName, edge\.cdnCertificateArn and edge\.albCertificateArn go together/],
    ['ALB certificate in another region', prod, 'edge.albCertificateArn', 'arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666', /edge\.albCertificateArn: must be an ACM certificate ARN in the app's region \(eu-west-1\)/],
    ['CloudFront certificate outside us-east-1', staging, 'edge.cdnCertificateArn', 'arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666', /edge\.cdnCertificateArn: must be an ACM certificate ARN in us-east-1/],
    ['backup retention under a week', staging, 'backup.retentionDays', 3, /backup\.retentionDays: must be an integer from 7 to 3650 \(got 3\)/],
    ['unlocked backup vault in prod', prod, 'backup.vaultLock', 'none', /backup\.vaultLock: must be 'governance' or 'compliance' in prod/],
    ['unknown vault lock mode', staging, 'backup.vaultLock', 'strict', /backup\.vaultLock: must be 'none', 'governance' or 'compliance'/],
    ['backup copy into the same region', prod, 'backup.copyRegion', 'eu-west-1', /backup\.copyRegion: must be an AWS region name other than region \(eu-west-1\)/],
    ['copy retention without a copy', prod, 'backup.copyRetentionDays', 30, /backup\.copyRetentionDays: .*only with backup\.copyRegion/],
    ['log retention CloudWatch does not offer', dev, 'network.flowLogRetentionDays', 20, /network\.flowLogRetentionDays: must be a CloudWatch Logs retention: one of 1, 3, 5, 7, 14, 30/],
    ['bad WAF CIDR', dev, 'edge.waf.denyCidrs', ['1.2.3.4'], /edge\.waf\.denyCidrs: must be a list of IPv4 CIDRs/],
    ['bad account', dev, 'account', '1234', /account: must be a 12-digit AWS account id \(got "1234"\)/],
    ['bad region', dev, 'region', 'Europe', /region: must be an AWS region name/],
  ])('%s fails naming the field', (_name, base, field, value, message) => {
    const e = errorOf(() => loadConfig(base.envName, withField(base, field, value)));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(new RegExp(`Invalid configuration for environment '${base.envName}'`));
    expect(e.message).toMatch(message);
  });

  test.each(['staging', 'prod'] as const)('%s without a domain fails naming the domain and both certificate fields', (env) => {
    const { domainName: _d, cdnCertificateArn: _c, albCertificateArn: _a, ...edge } = ENVIRONMENTS[env].edge;
    const e = errorOf(() => loadConfig(env, { edge }));
    expect(e.problems).toEqual([
      expect.stringMatching(new RegExp(`^edge\\.domainName: must be a lower-case DNS name such as www\\.example\\.com; required in ${env}: CloudFront and the ALB serve end-to-end TLS`)),
      expect.stringMatching(/^edge\.cdnCertificateArn: must be an ACM certificate ARN in us-east-1 \(CloudFront\) covering edge\.domainName; required in/),
      expect.stringMatching(/^edge\.albCertificateArn: must be an ACM certificate ARN in the app's region \(eu-west-1\) covering edge\.domainName; required in/),
    ]);
    expect(e.message).toContain(`Invalid configuration for environment '${env}'`);
  });

  test('dev may run without a domain, but not with half of it', () => {
    expect(ENVIRONMENTS.dev.edge.domainName).toBeUndefined();
    expect(configProblems(dev)).toEqual([]);
    const half = { ...dev, edge: { ...dev.edge, domainName: 'dev.example.com' } };
    expect(configProblems(half).map((p) => p.split(':')[0])).toEqual(['edge.cdnCertificateArn', 'edge.albCertificateArn']);
  });

  test('the shipped staging and prod configs carry visibly placeholder certificates', () => {
    for (const env of ['staging', 'prod'] as const) {
      const e = ENVIRONMENTS[env].edge;
      expect(e.domainName).toMatch(/example\.com$/);
      for (const arn of [e.cdnCertificateArn, e.albCertificateArn]) expect(arn).toMatch(/^arn:aws:acm:[a-z0-9-]+:111111111111:certificate\/00000000-0000-0000-0000-0000000000\d\d$/);
    }
  });

  test.each(['staging', 'prod'] as const)('%s without a backup plan fails naming the field', (env) => {
    const { backup: _b, ...rest } = ENVIRONMENTS[env];
    expect(configProblems(rest as PlatformConfig)).toEqual([expect.stringMatching(new RegExp(`^backup: must be set in ${env} \\(an AWS Backup plan for RDS and the uploads bucket`))]);
    expect(configProblems(dev).filter((p) => p.startsWith('backup'))).toEqual([]);
  });

  test('every problem is reported at once', () => {
    const bad = withField(withField(dev, 'redis.shards', 0), 'network.vpcCidr', 'nope');
    const problems = configProblems(bad);
    expect(problems.some((p) => p.startsWith('redis.shards'))).toBe(true);
    expect(problems.some((p) => p.startsWith('network.vpcCidr'))).toBe(true);
  });

  test('an existing VPC needs one subnet id per AZ', () => {
    const e = errorOf(() => loadConfig('dev', {
      network: { ...dev.network, existingVpc: { vpcId: 'vpc-0123456789abcdef0', vpcCidr: '10.0.0.0/16', publicSubnetIds: ['subnet-0123456789abcdef0'], privateSubnetIds: [], isolatedSubnetIds: [] } },
    }));
    expect(e.message).toMatch(/network\.existingVpc\.publicSubnetIds: must list network\.maxAzs \(2\) subnet ids/);
  });

  test('an existing VPC needs a valid CIDR', () => {
    const ids = (n: number) => [`subnet-0123456789abcdef${n}`, `subnet-0123456789abcde${n}0`];
    const e = errorOf(() => loadConfig('dev', {
      network: { ...dev.network, existingVpc: { vpcId: 'vpc-0123456789abcdef0', vpcCidr: '10.0.0/16', publicSubnetIds: ids(1), privateSubnetIds: ids(2), isolatedSubnetIds: ids(3) } },
    }));
    expect(e.problems).toEqual(['network.existingVpc.vpcCidr: must be the IPv4 CIDR of the existing VPC, e.g. 10.0.0.0/16 (got "10.0.0/16")']);
  });

  test('the supported Kubernetes versions are the ones PlatformCluster pins', () => {
    expect(SUPPORTED_K8S).toEqual(Object.keys(CLUSTER_VERSIONS));
  });
});
