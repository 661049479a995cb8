import { Template } from 'aws-cdk-lib/assertions';
import { Stack } from 'aws-cdk-lib';
import { platformRules, renderRules } from '../lib/observability/prometheus-rules';
import { XRAY_WRITE } from '../lib/workloads/identities';
import { chartEntries } from '../k8s/app';
import { ENVIRONMENTS } from '../lib/config';
import { build, ENVS, resourcesOf } from './support/platform';

const MANIFEST = 'Custom::AWSCDK-EKS-KubernetesResource';

describe.each(ENVS)('WorkloadsStack (%s)', (env) => {
  const { platform, config } = build(env);
  const stack = platform.workloads;
  const template = Template.fromStack(stack);
  // The charts' manifests (the scraper's RBAC manifest is the metrics' own)
  const manifests = resourcesOf(template, MANIFEST).filter(([id]) => /^Chart/.test(id));
  const idOf = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);

  test('one KubernetesManifest per chart, in this stack, each well under the 256 KiB event / 1 MB template caps', () => {
    expect(manifests.map(([id]) => id)).toEqual(['namespace', 'registry', 'telemetry', 'gateway', 'services', 'jobs', 'smoke'].map((n) => idOf(stack.manifests[n])));
    for (const [, r] of manifests) expect(JSON.stringify(r.Properties.Manifest).length).toBeLessThan(100_000);
    expect(JSON.stringify(template.toJSON()).length).toBeLessThan(500_000);
    // Nothing of the workloads lands in the cluster stack (that would cycle with the edge stack).
    expect(resourcesOf(Template.fromStack(platform.cluster), MANIFEST).map(([id]) => id).filter((id) => /Chart/.test(id))).toEqual([]);
  });

  test('apply order: namespace first; pods after their Pod Identity associations; gateway after the ALB controller', () => {
    const dependsOn = (name: string) => template.toJSON().Resources[idOf(stack.manifests[name])].DependsOn ?? [];
    const order = ['namespace', 'registry', 'telemetry', 'gateway', 'services', 'jobs', 'smoke'];
    order.slice(1).forEach((name, i) => expect(dependsOn(name)).toContain(idOf(stack.manifests[order[i]])));
    const associations = resourcesOf(template, 'AWS::EKS::PodIdentityAssociation').map(([id]) => id);
    for (const name of ['telemetry', 'gateway', 'services', 'jobs', 'smoke']) expect(dependsOn(name)).toEqual(expect.arrayContaining(associations));
    // The controller lives in the cluster stack: a stack dependency orders it before this one.
    expect(stack.dependencies).toEqual(expect.arrayContaining([platform.cluster, platform.edge, platform.data]));
  });

  test('one Pod Identity role per workload, bound to its ServiceAccount in the platform namespace', () => {
    const associations = resourcesOf(template, 'AWS::EKS::PodIdentityAssociation').map(([, r]) => r.Properties);
    expect(associations.map((a) => a.ServiceAccount).sort())
      .toEqual(['catalog', 'gateway', ...(config.workloads.loadgen.enabled ? ['loadgen'] : []), 'order', 'order-timeout', 'otel-collector', 'search-sync', 'search-sync-follow', 'smoke', 'user']);
    for (const a of associations) expect(a.Namespace).toBe(config.workloads.namespace);
    for (const [, role] of resourcesOf(template, 'AWS::IAM::Role')) {
      expect(role.Properties.AssumeRolePolicyDocument.Statement[0]).toEqual(expect.objectContaining({
        Action: ['sts:AssumeRole', 'sts:TagSession'], Principal: { Service: 'pods.eks.amazonaws.com' },
      }));
    }
  });

  test('least privilege: each role reads only its own secrets; only catalog touches the bucket, under products/', () => {
    const policies = Object.fromEntries(Object.entries(stack.roles).map(([name, role]) => {
      const doc = stack.resolve((role.node.tryFindChild('DefaultPolicy') as any).document.toJSON());
      return [name, doc.Statement as any[]];
    }));
    const list = (v: unknown): string[] => ([] as string[]).concat(v as string[]);
    const actions = (name: string) => policies[name].flatMap((s) => list(s.Action));
    const secretCount = (name: string) => list(policies[name].find((s) => s.Action === 'secretsmanager:GetSecretValue').Resource).length;
    expect(secretCount('gateway')).toBe(1); // Redis only
    expect(secretCount('user')).toBe(4); // MySQL, Redis, JWT key, the bootstrap admin
    expect(secretCount('catalog')).toBe(3); // MySQL, Redis, OpenSearch
    // The collector writes to X-Ray and does nothing else; X-Ray has no resource-level permissions.
    expect(policies['otel-collector']).toEqual([{ Effect: 'Allow', Action: XRAY_WRITE, Resource: '*' }]);
    expect(XRAY_WRITE.every((a) => /^xray:(Put|GetSampling)/.test(a))).toBe(true);
    for (const name of Object.keys(policies).filter((n) => n !== 'otel-collector')) {
      expect(actions(name).every((a) => !a.includes('*'))).toBe(true);
      expect(actions(name).filter((a) => a.startsWith('xray:'))).toEqual([]);
      for (const s of policies[name]) expect(JSON.stringify(s.Resource)).not.toMatch(/"\*"/);
      if (name !== 'catalog') expect(actions(name).filter((a) => a.startsWith('s3:'))).toEqual([]);
    }
    const s3 = policies.catalog.find((s) => list(s.Action).includes('s3:PutObject'));
    expect(s3.Action).toEqual(['s3:PutObject', 's3:GetObject']);
    expect(JSON.stringify(s3.Resource)).toMatch(/\/products\/\*"/);
    for (const s of Object.values(policies).flat().filter((st) => list(st.Action).includes('kms:Decrypt'))) {
      expect(s.Condition.StringEquals['kms:ViaService']).toMatch(/^(secretsmanager|s3)\./);
    }
  });

  test('no secret value in any manifest: secrets travel by ARN', () => {
    const text = JSON.stringify(manifests.map(([, r]) => r.Properties.Manifest));
    expect(text).not.toMatch(/PASSWORD"|"value":"-----BEGIN/);
    expect(text).toMatch(/MYSQL_SECRET_ARN/);
  });

  test('the services image: a DockerImageAsset on the repository root (offline synth), or the configured image', () => {
    expect(stack.imageAsset).toBeDefined();
    expect(Stack.of(stack.imageAsset!).resolve(stack.image)).toBeDefined();
    const withImage = build(env, { workloads: { ...config.workloads, image: { repository: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/platform-services', tag: '1.2.3' } } });
    expect(withImage.platform.workloads.imageAsset).toBeUndefined();
    expect(withImage.platform.workloads.image).toBe('111111111111.dkr.ecr.eu-west-1.amazonaws.com/platform-services:1.2.3');
  });

  test('the release gate waits for this release\'s smoke Job, inside the kubectl handler\'s limit', () => {
    const [, gate] = resourcesOf(template, 'Custom::AWSCDK-EKS-KubernetesObjectValue')[0];
    expect(gate.Properties).toEqual(expect.objectContaining({ ObjectType: 'job', ObjectName: stack.charts.smoke.jobName, ObjectNamespace: config.workloads.namespace, JsonPath: '.status.succeeded' }));
    expect(stack.charts.smoke.jobName).toBe(`smoke-${stack.imageAsset!.assetHash.slice(0, 40)}`);
    expect(Number(gate.Properties.TimeoutSeconds)).toBe(config.workloads.smoke.deadlineSeconds + 120);
    expect(Number(gate.Properties.TimeoutSeconds)).toBeLessThanOrEqual(840);
    expect(template.toJSON().Resources[idOf(stack.smokeGate!)].DependsOn).toContain(idOf(stack.manifests.smoke));
    const off = build(env, { workloads: { ...config.workloads, smoke: { ...config.workloads.smoke, gate: false } } });
    expect(off.platform.workloads.smokeGate).toBeUndefined();
  });

  test('outputs carry every endpoint the GitOps command needs', () => {
    expect(Object.keys(template.toJSON().Outputs)).toEqual(expect.arrayContaining(['Image', 'TargetGroupArn', 'MysqlHost', 'RedisHost', 'OpenSearchHost', 'UploadsBucket', 'JwtSigningKeySecretArn']));
  });

  test('service metrics: the scraper reads this cluster\'s platform namespace into a workspace with this env\'s SLO rules', () => {
    expect(config.observability.managedPrometheus).toBe(true);
    const [[, scraper]] = resourcesOf(template, 'AWS::APS::Scraper');
    expect(JSON.stringify(scraper.Properties.Source.EksConfiguration.ClusterArn)).toMatch(/cluster/i);
    const config_ = JSON.parse(scraper.Properties.ScrapeConfiguration.ConfigurationBlob['Fn::Base64']);
    expect(config_.scrape_configs[0].kubernetes_sd_configs[0].namespaces.names).toEqual([config.workloads.namespace]);
    const namespaces = resourcesOf(template, 'AWS::APS::RuleGroupsNamespace').map(([, r]) => r.Properties);
    expect(namespaces).toEqual([expect.objectContaining({ Name: 'platform', Data: renderRules(platformRules(config.observability.slo)) })]);
    expect(namespaces[0].Data).toContain(`> ${Number((14.4 * (1 - config.observability.slo.availability)).toPrecision(12))} and`);
    // the alert manager publishes to the alerts stack's topic (buildPlatform passes it)
    const alertManager = JSON.stringify(resourcesOf(template, 'AWS::APS::Workspace')[0][1].Properties.AlertManagerDefinition);
    expect(alertManager).toContain('sns_configs');
    expect(alertManager).toContain(`"StackName":"${platform.alerts.stackName}"`);
    const entries = resourcesOf(template, 'AWS::EKS::AccessEntry').map(([, r]) => r.Properties);
    expect(entries).toEqual([expect.objectContaining({ Username: 'aps-collector-user', Type: 'STANDARD' })]);
  });

  test('snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});

test('observability.managedPrometheus off: no workspace, scraper, rules or access entry, and the metrics port stays closed to the VPC', () => {
  const dev = ENVIRONMENTS.dev;
  const { platform } = build('dev', { observability: { ...dev.observability, managedPrometheus: false } });
  const template = Template.fromStack(platform.workloads);
  expect(platform.workloads.metrics).toBeUndefined();
  const types = Object.values(template.toJSON().Resources).map((r) => (r as { Type: string }).Type);
  expect(types.filter((t) => /^AWS::APS::|^AWS::EKS::AccessEntry$/.test(t))).toEqual([]);
  // The charts still deploy; no NetworkPolicy opens the metrics port to the VPC (it does with the switch on).
  expect(resourcesOf(template, MANIFEST).filter(([id]) => /^Chart/.test(id))).toHaveLength(7);
  const vpcMetricsRules = (charts: typeof platform.workloads.charts) => chartEntries(charts)
    .flatMap(([, chart]) => chart.toJson())
    .filter((d: any) => d.kind === 'NetworkPolicy')
    .flatMap((d: any) => d.spec.ingress ?? [])
    .filter((r: any) => r.from?.some((f: any) => f.ipBlock) && r.ports?.some((p: any) => p.port === 9464));
  expect(vpcMetricsRules(platform.workloads.charts)).toEqual([]);
  expect(vpcMetricsRules(build('dev').platform.workloads.charts).length).toBeGreaterThan(0);
});

describe('PlatformCluster runs what the workloads need', () => {
  const { platform } = build('prod');
  const cluster = Template.fromStack(platform.cluster);

  test('the VPC CNI enforces NetworkPolicies', () => {
    cluster.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'vpc-cni', ConfigurationValues: JSON.stringify({ enableNetworkPolicy: 'true' }) });
  });

  test('the EBS CSI driver add-on is pinned and gets its role through Pod Identity', () => {
    const [, addon] = resourcesOf(cluster, 'AWS::EKS::Addon').find(([, r]) => r.Properties.AddonName === 'aws-ebs-csi-driver')!;
    expect(addon.Properties.AddonVersion).toMatch(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/);
    expect(addon.Properties.PodIdentityAssociations).toEqual([{ ServiceAccount: 'ebs-csi-controller-sa', RoleArn: expect.anything() }]);
  });
});
