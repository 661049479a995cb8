import { CfnElement, RemovalPolicy } from 'aws-cdk-lib';
import { ConfigError } from '../lib/config';
import { ALB_STICKINESS_COOKIES } from '../lib/constructs/cdn';
import { CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS } from '../lib/constructs/sticky-load-balancer';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { loadConfig, PlatformConfig } from '../lib/config';
import { AssetBuckets } from '../lib/constructs/asset-buckets';
import { TARGET_GROUP_BINDING_TAG_KEY } from '../lib/constructs/platform-cluster';
import { EdgeStack } from '../lib/stacks/edge-stack';
import { PlatformStack } from '../lib/stacks/platform-stack';
import { AlertsStack } from '../lib/stacks/alerts-stack';
import { WafStack } from '../lib/stacks/waf-stack';
import { rulePackFindings, testApp } from './support/synth';

/** A value read from another stack's output: cdk.json sets weak cross-stack references (testApp loads it). */
const outputOf = (stackName: string, region: string, output: RegExp) => ({
  'Fn::GetStackOutput': { StackName: stackName, Region: region, OutputName: expect.stringMatching(output) },
});

/**
 * WAF and edge stacks of one environment, on stand-ins for the stacks they consume: the data
 * stack's AssetBuckets (the real construct, under the data stack's name and path), an imported VPC
 * and a cluster security group. Keeps these tests independent of how the foundation stacks evolve.
 */
function build(env: string, overrides: Partial<PlatformConfig> = {}, context: Record<string, unknown> = {}) {
  const app = testApp(context);
  const config = loadConfig(env, { account: '123456789012', ...overrides });
  const name = (part: string) => `${config.appName}-${config.envName}-${part}`;
  const data = new PlatformStack(app, name('data'), { config });
  const buckets = new AssetBuckets(data, 'Buckets', { removalPolicy: RemovalPolicy.DESTROY });
  const cluster = new PlatformStack(app, name('cluster'), { config });
  const vpc = ec2.Vpc.fromVpcAttributes(cluster, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    vpcCidrBlock: config.network.vpcCidr,
    availabilityZones: cluster.availabilityZones,
    publicSubnetIds: cluster.availabilityZones.map((_, i) => `subnet-0aaaaaaaaaaaaaaa${i}`),
    publicSubnetRouteTableIds: cluster.availabilityZones.map((_, i) => `rtb-0aaaaaaaaaaaaaaa${i}`),
    privateSubnetIds: cluster.availabilityZones.map((_, i) => `subnet-0bbbbbbbbbbbbbbb${i}`),
    privateSubnetRouteTableIds: cluster.availabilityZones.map((_, i) => `rtb-0bbbbbbbbbbbbbbb${i}`),
  });
  const clusterSecurityGroup = new ec2.SecurityGroup(cluster, 'ClusterSecurityGroup', { vpc, description: 'Stand-in for the EKS cluster security group' });
  // The alarm topics, as buildPlatform makes them (Control Tower wants an action on every alarm).
  const alerts = new AlertsStack(app, name('alerts'), { config });
  const alertsUsEast1 = new AlertsStack(app, name('alerts-us-east-1'), { config, region: 'us-east-1' });
  const waf = new WafStack(app, name('waf'), { config, alarmTopic: alertsUsEast1.topic });
  const targetGroupBindingTag = { key: TARGET_GROUP_BINDING_TAG_KEY, value: `${config.appName}-${config.envName}` }; // the cluster name
  const edge = new EdgeStack(app, name('edge'), { config, vpc, buckets, clusterSecurityGroup, targetGroupBindingTag, webAclArn: waf.webAcl.arn, alarmTopic: alerts.topic });
  return { app, config, data, cluster, clusterSecurityGroup, waf, edge };
}

const logicalId = (el: { node: { defaultChild?: unknown } }, stack: PlatformStack) => stack.getLogicalId(el.node.defaultChild as CfnElement);

/** The distribution config, the API behavior and the policy behind a policy reference. */
function apiBehavior(t: Template) {
  const dist = Object.values(t.findResources('AWS::CloudFront::Distribution'))[0].Properties.DistributionConfig;
  const api = dist.CacheBehaviors.find((b: any) => b.PathPattern === '/api/*');
  const policy = (type: string, ref: any) => t.toJSON().Resources[ref.Ref].Properties[type];
  return { dist, api, policy, origin: dist.Origins.find((o: any) => o.Id === api.TargetOriginId) };
}

describe.each(['dev', 'prod'])('EdgeStack and WafStack (%s)', (env) => {
  const built = build(env);
  const { config, edge, waf, data, cluster } = built;
  const edgeTemplate = Template.fromStack(edge);
  const wafTemplate = Template.fromStack(waf);

  test('snapshots', () => {
    expect(edgeTemplate.toJSON()).toMatchSnapshot('edge');
    expect(wafTemplate.toJSON()).toMatchSnapshot('waf');
  });

  test('WAF in us-east-1 with CLOUDFRONT scope and the configured rate limit; edge in the app region', () => {
    expect(waf.region).toBe('us-east-1');
    expect(edge.region).toBe(config.region);
    wafTemplate.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'CLOUDFRONT',
      Rules: Match.arrayWith([Match.objectLike({ Name: 'RateLimitPerIp', Statement: { RateBasedStatement: Match.objectLike({ Limit: config.edge.waf.rateLimitPer5Min }) } })]),
    });
  });

  test('the web ACL is attached to the distribution (cross-region reference)', () => {
    const dist = Object.values(edgeTemplate.findResources('AWS::CloudFront::Distribution'))[0].Properties.DistributionConfig;
    expect(dist.WebACLId).toEqual(outputOf(waf.stackName, 'us-east-1', /WebAcl.*Arn/));
    expect(edge.dependencies).toContain(waf);
  });

  test('target group from config: IP targets on the gateway port, stickiness mode', () => {
    const tg = Object.values(edgeTemplate.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'))[0].Properties;
    expect(tg).toMatchObject({ TargetType: 'ip', Port: config.edge.gatewayPort, HealthCheckPath: config.edge.healthCheckPath });
    const attrs = Object.fromEntries(tg.TargetGroupAttributes.map((a: any) => [a.Key, a.Value]));
    expect(attrs['stickiness.type']).toBe(config.edge.stickiness.mode);
    expect(attrs['deregistration_delay.timeout_seconds']).toBe(String(config.edge.deregistrationDelaySeconds));
    if (config.edge.stickiness.mode === 'app_cookie') {
      expect(attrs['stickiness.app_cookie.cookie_name']).toBe(config.edge.stickiness.appCookieName);
    }
    expect(edge.targetGroup).toBe(edge.loadBalancer.targetGroup);
    // The load balancer controller may only register targets in target groups tagged for its cluster.
    expect(tg.Tags).toContainEqual({ Key: TARGET_GROUP_BINDING_TAG_KEY, Value: `${config.appName}-${config.envName}` });
  });

  test('ALB security group is let into the cluster security group on the gateway port, from the edge stack', () => {
    const ingress = Object.values(edgeTemplate.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    expect(ingress).toContainEqual({
      GroupId: outputOf(cluster.stackName, config.region, /ClusterSecurityGroup.*GroupId/),
      SourceSecurityGroupId: { 'Fn::GetAtt': [logicalId(edge.loadBalancerSecurityGroup, edge), 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: config.edge.gatewayPort,
      ToPort: config.edge.gatewayPort,
      Description: 'ALB to the gateway pods',
    });
    expect(JSON.stringify(Template.fromStack(cluster).toJSON())).not.toContain(edge.stackName);
  });

  test('deletion protection follows retainData', () => {
    edgeTemplate.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: String(config.retainData) }]),
    });
  });

  test('distribution uses the data stack buckets without changing their policies from here', () => {
    expect(data.dependencies).not.toContain(edge);
    const dataJson = JSON.stringify(Template.fromStack(data).toJSON());
    expect(dataJson).not.toContain(edge.stackName);
    // The ALB's log-delivery grant does land in the log bucket's policy: it names only the ELB
    // account of the region and the bucket, so the data stack still depends on nothing here.
    Template.fromStack(data).hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 's3:PutObject', Principal: { Service: 'delivery.logs.amazonaws.com' } })]) },
    });
    expect(dataJson).toContain(':iam::156460612806:root'); // ELB account of eu-west-1
    const dist = Object.values(edgeTemplate.findResources('AWS::CloudFront::Distribution'))[0].Properties.DistributionConfig;
    expect(dist.Logging.Bucket).toEqual(outputOf(data.stackName, config.region, /AccessLogs.*RegionalDomainName/));
    expect(dist.PriceClass).toBe({ 100: 'PriceClass_100', 200: 'PriceClass_200', All: 'PriceClass_All' }[config.edge.priceClass]);
  });

  test('no unacknowledged rule-pack findings', () => {
    expect(rulePackFindings(build(env).app)).toEqual([]);
  });
});

describe.each(['dev', 'staging', 'prod'])('EdgeStack transport (%s)', (env) => {
  const { config, edge } = build(env);
  const t = Template.fromStack(edge);
  const tls = env !== 'dev';

  test('internal ALB in the private subnets; its group admits only CloudFront (VPC origin) on the listener port', () => {
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal', Subnets: edge.availabilityZones.map((_, i) => `subnet-0bbbbbbbbbbbbbbb${i}`) });
    const sg = t.toJSON().Resources[logicalId(edge.loadBalancerSecurityGroup, edge)].Properties;
    const rules = [...(sg.SecurityGroupIngress ?? []), ...Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties)
      .filter((r) => JSON.stringify(r.GroupId).includes(logicalId(edge.loadBalancerSecurityGroup, edge)))];
    expect(rules).toEqual([expect.objectContaining({ SourcePrefixListId: CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS[config.region], FromPort: tls ? 443 : 80, ToPort: tls ? 443 : 80 })]);
    expect(edge.loadBalancerSecurityGroup).toBe(edge.loadBalancer.securityGroup);
  });

  test('CloudFront reaches the ALB through a VPC origin: no public origin, no secret header, no secret', () => {
    const { origin } = apiBehavior(t);
    expect(origin.VpcOriginConfig).toBeDefined();
    expect(origin.CustomOriginConfig).toBeUndefined();
    expect(origin.OriginCustomHeaders).toBeUndefined();
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0);
    t.hasResourceProperties('AWS::CloudFront::VpcOrigin', {
      VpcOriginEndpointConfig: Match.objectLike({ Arn: { Ref: logicalId(edge.loadBalancer.loadBalancer, edge) }, OriginProtocolPolicy: tls ? 'https-only' : 'http-only' }),
    });
  });

  test(tls ? 'end-to-end TLS: viewer TLSv1.2_2021 with the domain, HTTP redirected, HTTPS listener with the ALB certificate, Host forwarded'
    : 'dev without a domain: default certificate, plain HTTP listener behind the VPC origin, acknowledged as such', () => {
    const { dist, api, policy } = apiBehavior(t);
    expect([dist.DefaultCacheBehavior.ViewerProtocolPolicy, api.ViewerProtocolPolicy]).toEqual(['redirect-to-https', 'redirect-to-https']);
    const listeners = Object.values(t.findResources('AWS::ElasticLoadBalancingV2::Listener')).map((l) => l.Properties);
    const headers = policy('OriginRequestPolicyConfig', api.OriginRequestPolicyId).HeadersConfig.Headers;
    if (tls) {
      expect(dist.Aliases).toEqual([config.edge.domainName]);
      expect(dist.ViewerCertificate).toEqual({ AcmCertificateArn: config.edge.cdnCertificateArn, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
      expect(listeners).toEqual([expect.objectContaining({ Protocol: 'HTTPS', Port: 443, Certificates: [{ CertificateArn: config.edge.albCertificateArn }] })]);
      expect(headers).toContain('Host');
    } else {
      expect(dist.Aliases).toBeUndefined();
      expect(listeners).toEqual([expect.objectContaining({ Protocol: 'HTTP', Port: 80 })]);
      expect(headers).not.toContain('Host');
    }
  });

  test('stickiness survives CloudFront: the ALB cookies, the app cookie and the session cookie are forwarded, never cached on', () => {
    const { api, policy } = apiBehavior(t);
    const forwarded = policy('OriginRequestPolicyConfig', api.OriginRequestPolicyId).CookiesConfig;
    expect(forwarded.CookieBehavior).toBe('whitelist');
    const st = config.edge.stickiness;
    expect(forwarded.Cookies).toEqual(expect.arrayContaining([...ALB_STICKINESS_COOKIES, config.edge.sessionCookieName, ...(st.mode === 'app_cookie' ? [st.appCookieName!] : [])]));
    expect(policy('CachePolicyConfig', api.CachePolicyId).ParametersInCacheKeyAndForwardedToOrigin.CookiesConfig).toEqual({ CookieBehavior: 'none' });
  });

  test('no unacknowledged rule-pack findings', () => {
    expect(rulePackFindings(build(env).app)).toEqual([]);
  });
});

describe('EdgeStack config errors', () => {
  test('prod without a domain fails before any construct, naming the domain and both certificate fields', () => {
    const { domainName: _d, cdnCertificateArn: _c, albCertificateArn: _a, ...edge } = loadConfig('prod').edge;
    let error: unknown;
    try {
      build('prod', { edge });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.split(':')[0])).toEqual(['edge.domainName', 'edge.cdnCertificateArn', 'edge.albCertificateArn']);
  });

  test('a dev ALB certificate without a domain fails in config validation (the one place that checks it)', () => {
    const albCertificateArn = 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
    expect(() => build('dev', { edge: { ...loadConfig('dev').edge, albCertificateArn } })).toThrow(/edge\.domainName: must be a lower-case DNS name/);
  });
});

describe('EdgeStack with strong cross-stack references (the CDK default, if cdk.json ever drops "weak")', () => {
  test.each(['dev', 'prod'])('no unacknowledged rule-pack findings (%s): cross-region export Lambdas acknowledged', (env) => {
    const { app, edge, waf } = build(env, {}, { '@aws-cdk/core:defaultCrossStackReferences': 'strong' });
    expect(rulePackFindings(app)).toEqual([]);
    expect(waf.node.tryFindChild('Custom::CrossRegionExportWriterCustomResourceProvider')).toBeDefined();
    expect(edge.node.tryFindChild('Custom::CrossRegionExportReaderCustomResourceProvider')).toBeDefined();
  });
});
