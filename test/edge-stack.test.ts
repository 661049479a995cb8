import { CfnElement, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { loadConfig, PlatformConfig } from '../lib/config';
import { AssetBuckets } from '../lib/constructs/asset-buckets';
import { TARGET_GROUP_BINDING_TAG_KEY } from '../lib/constructs/platform-cluster';
import { EdgeStack } from '../lib/stacks/edge-stack';
import { PlatformStack } from '../lib/stacks/platform-stack';
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
  });
  const clusterSecurityGroup = new ec2.SecurityGroup(cluster, 'ClusterSecurityGroup', { vpc, description: 'Stand-in for the EKS cluster security group' });
  const waf = new WafStack(app, name('waf'), { config });
  const targetGroupBindingTag = { key: TARGET_GROUP_BINDING_TAG_KEY, value: `${config.appName}-${config.envName}` }; // the cluster name
  const edge = new EdgeStack(app, name('edge'), { config, vpc, buckets, clusterSecurityGroup, targetGroupBindingTag, webAclArn: waf.webAcl.arn });
  return { app, config, data, cluster, clusterSecurityGroup, waf, edge };
}

const logicalId = (el: { node: { defaultChild?: unknown } }, stack: PlatformStack) => stack.getLogicalId(el.node.defaultChild as CfnElement);

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

describe('EdgeStack with a domain and certificates', () => {
  const certs = (region: string) => `arn:aws:acm:${region}:123456789012:certificate/11111111-2222-3333-4444-555555555555`;
  const edgeConfig = (extra: Partial<PlatformConfig['edge']>) => ({ edge: { ...loadConfig('prod').edge, ...extra } });

  test('HTTPS end to end: custom domain on CloudFront, HTTPS listener, Host forwarded', () => {
    const https = edgeConfig({ domainName: 'www.example.com', cdnCertificateArn: certs('us-east-1'), albCertificateArn: certs('eu-west-1') });
    // Rule packs first, on an app of its own: an app synthesized once (Template.fromStack) is not validated again.
    expect(rulePackFindings(build('prod', https).app)).toEqual([]);
    const t = Template.fromStack(build('prod', https).edge);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTPS', Port: 443 });
    const dist = Object.values(t.findResources('AWS::CloudFront::Distribution'))[0].Properties.DistributionConfig;
    expect(dist.Aliases).toEqual(['www.example.com']);
    expect(dist.ViewerCertificate.MinimumProtocolVersion).toBe('TLSv1.2_2021');
    const api = dist.CacheBehaviors[0];
    expect(dist.Origins.find((o: any) => o.Id === api.TargetOriginId).CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');
  });

  test('an ALB certificate without a domain fails with the config fields named', () => {
    // Config validation catches it before the stack's own check would.
    expect(() => build('dev', edgeConfig({ albCertificateArn: certs('eu-west-1') }))).toThrow(/edge\.domainName: must be set when edge\.albCertificateArn is/);
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
