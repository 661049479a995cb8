import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledge, controlTower } from '../../lib/compliance';
import { Cdn, CdnApiOriginProps, CdnProps } from '../../lib/constructs';
import { rulePackFindings, testApp } from '../support/synth';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const CERT = `arn:aws:acm:us-east-1:${ENV.account}:certificate/11111111-2222-3333-4444-555555555555`;
const ALB_ARN = `arn:aws:elasticloadbalancing:eu-west-1:${ENV.account}:loadbalancer/app/internal-alb/0123456789abcdef`;
const ALB_DNS = 'internal-alb-123.eu-west-1.elb.amazonaws.com';

interface Options {
  readonly https?: boolean;
  readonly api?: Partial<CdnApiOriginProps> | false;
  readonly bucketsElsewhere?: boolean;
  readonly props?: Partial<CdnProps>;
}

/** A Cdn with its own fixture buckets (in its stack, or in a second stack of the app). */
function build(o: Options = {}) {
  const app = testApp();
  const stack = new Stack(app, 'Test', { env: ENV });
  const bucketStack = o.bucketsElsewhere ? new Stack(app, 'Buckets', { env: ENV }) : stack;
  const key = new kms.Key(bucketStack, 'Key', { enableKeyRotation: true });
  key.addToResourcePolicy(new iam.PolicyStatement({
    effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()], actions: ['kms:CreateGrant'], resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  }));
  const assets = new s3.Bucket(bucketStack, 'Assets', { encryptionKey: key, enforceSSL: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
  const logs = new s3.Bucket(bucketStack, 'Logs', {
    encryption: s3.BucketEncryption.S3_MANAGED, enforceSSL: true, objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  });
  // Stand-ins for the data stack's buckets, which have their own tests.
  for (const fixture of [assets, logs, key]) {
    acknowledge(fixture, ...['AwsSolutions-S1', ...['s3_bucket_default_encryption_kms_check', 's3_bucket_versioning_enabled_check',
      's3_bucket_logging_enabled_check', 's3_event_notifications_enabled_check', 's3_lifecycle_policy_check',
      's3_bucket_object_lock_enabled_check'].map(controlTower)].map((id) => ({ id, reason: 'test fixture' })));
  }
  const certificate = o.https ? acm.Certificate.fromCertificateArn(stack, 'Cert', CERT) : undefined;
  // An internal load balancer of another team, by attributes (StickyLoadBalancer has its own tests).
  const loadBalancer = elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, 'Alb', {
    loadBalancerArn: ALB_ARN,
    loadBalancerDnsName: ALB_DNS,
    securityGroupId: 'sg-0123456789abcdef0',
    vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a'], privateSubnetIds: ['subnet-0123456789abcdef0'], privateSubnetRouteTableIds: ['rtb-0123456789abcdef0'] }),
  });
  const apiOrigin: CdnApiOriginProps | undefined = o.api === false ? undefined : {
    loadBalancer,
    protocolPolicy: o.https ? cloudfront.OriginProtocolPolicy.HTTPS_ONLY : cloudfront.OriginProtocolPolicy.HTTP_ONLY,
    ...(o.api ?? {}),
  };
  const cdn = new Cdn(stack, 'Cdn', {
    staticAssetsBucket: assets,
    logBucket: logs,
    apiOrigin,
    applicationCookies: ['sid'],
    webAclArn: `arn:aws:wafv2:us-east-1:${ENV.account}:global/webacl/edge/abc`,
    domainNames: o.https ? ['www.example.com'] : undefined,
    certificate,
    // CloudFront's alarms belong in us-east-1 (CdnAlarms, tested in alarms.test.ts); this stack is not there.
    alarms: false,
    ...o.props,
  });
  return { app, stack, bucketStack, cdn, template: () => Template.fromStack(stack) };
}

/** The distribution config and the policy behind a behavior's policy reference. */
function behaviors(t: Template) {
  const dist = Object.values(t.findResources('AWS::CloudFront::Distribution'))[0].Properties.DistributionConfig;
  const policy = (type: string, ref: any) => t.toJSON().Resources[ref.Ref].Properties[type];
  return { dist, policy };
}

describe('Cdn', () => {
  test('default behavior: S3 through Origin Access Control, 30-day cache, gzip and brotli, SPA rewrite', () => {
    const t = build().template();
    const { dist, policy } = behaviors(t);
    const s3Origin = dist.Origins.find((o: any) => o.S3OriginConfig);
    expect(s3Origin.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [t.getResourceId('AWS::CloudFront::OriginAccessControl'), 'Id'] });
    t.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' }),
    });
    const d = dist.DefaultCacheBehavior;
    expect(d.TargetOriginId).toBe(s3Origin.Id);
    expect(d.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(d.Compress).toBe(true);
    const cache = policy('CachePolicyConfig', d.CachePolicyId);
    expect(cache).toMatchObject({
      DefaultTTL: 30 * 86400,
      MinTTL: 0,
      ParametersInCacheKeyAndForwardedToOrigin: {
        EnableAcceptEncodingGzip: true,
        EnableAcceptEncodingBrotli: true,
        CookiesConfig: { CookieBehavior: 'none' },
        HeadersConfig: { HeaderBehavior: 'none' },
        QueryStringsConfig: { QueryStringBehavior: 'none' },
      },
    });
    expect(d.FunctionAssociations).toEqual([{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [t.getResourceId('AWS::CloudFront::Function'), 'FunctionARN'] } }]);
    expect(dist.DefaultRootObject).toBe('index.html');
    // SPA fallback must not turn API errors into index.html: no distribution-wide error responses.
    expect(dist.CustomErrorResponses).toBeUndefined();
  });

  test('the SPA rewrite serves index.html for routes and leaves files alone', () => {
    const { cdn } = build();
    const code = (cdn.spaRewriteFunction!.node.defaultChild as cloudfront.CfnFunction).functionCode;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const handler = new Function(`${code}; return handler;`)();
    const rewrite = (uri: string) => handler({ request: { uri } }).uri;
    expect(rewrite('/orders/42')).toBe('/index.html');
    expect(rewrite('/account/')).toBe('/index.html');
    expect(rewrite('/assets/app.3f2a.js')).toBe('/assets/app.3f2a.js');
    expect(rewrite('/favicon.ico')).toBe('/favicon.ico');
  });

  test('/api/*: internal ALB through a VPC origin, all methods, 10 s default TTL, no cookies in the key', () => {
    const t = build().template();
    const { dist, policy } = behaviors(t);
    expect(dist.CacheBehaviors).toHaveLength(1);
    const b = dist.CacheBehaviors[0];
    expect(b.PathPattern).toBe('/api/*');
    expect(b.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE']);
    expect(b.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(b.Compress).toBe(true);
    const origin = dist.Origins.find((o: any) => o.Id === b.TargetOriginId);
    expect(origin.DomainName).toBe(ALB_DNS);
    expect(origin.CustomOriginConfig).toBeUndefined();
    expect(origin.OriginCustomHeaders).toBeUndefined();
    const vpcOriginId = t.getResourceId('AWS::CloudFront::VpcOrigin');
    // The documented default read timeout (30 s) is written out: the timeout chain relies on it.
    expect(origin.VpcOriginConfig).toEqual({ VpcOriginId: { 'Fn::GetAtt': [vpcOriginId, 'Id'] }, OriginReadTimeout: 30 });
    t.hasResourceProperties('AWS::CloudFront::VpcOrigin', {
      VpcOriginEndpointConfig: Match.objectLike({ Arn: ALB_ARN, OriginProtocolPolicy: 'http-only', HTTPPort: 80, HTTPSPort: 443, OriginSSLProtocols: ['TLSv1.2'] }),
    });
    expect(policy('CachePolicyConfig', b.CachePolicyId)).toMatchObject({
      DefaultTTL: 10,
      MinTTL: 0,
      MaxTTL: 3600,
      ParametersInCacheKeyAndForwardedToOrigin: {
        EnableAcceptEncodingGzip: true,
        EnableAcceptEncodingBrotli: true,
        CookiesConfig: { CookieBehavior: 'none' },
        HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['Authorization'] },
        QueryStringsConfig: { QueryStringBehavior: 'all' },
      },
    });
    const orp = policy('OriginRequestPolicyConfig', b.OriginRequestPolicyId);
    expect(orp.CookiesConfig).toEqual({
      CookieBehavior: 'whitelist',
      Cookies: ['AWSALB', 'AWSALBCORS', 'AWSALBAPP-0', 'AWSALBAPP-1', 'AWSALBAPP-2', 'AWSALBAPP-3', 'sid'],
    });
    expect(orp.QueryStringsConfig).toEqual({ QueryStringBehavior: 'all' });
    expect(orp.HeadersConfig.HeaderBehavior).toBe('whitelist');
    expect(orp.HeadersConfig.Headers).toEqual(expect.arrayContaining(['Origin', 'Content-Type', 'CloudFront-Viewer-Address']));
    expect(orp.HeadersConfig.Headers).not.toContain('Host');
  });

  test('HTTPS: custom domain, TLS 1.2 2021 with SNI, HTTP redirected, HTTPS-only VPC origin that gets the Host header', () => {
    const t = build({ https: true }).template();
    const { dist, policy } = behaviors(t);
    expect(dist.Aliases).toEqual(['www.example.com']);
    expect(dist.ViewerCertificate).toEqual({ AcmCertificateArn: CERT, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
    expect([dist.DefaultCacheBehavior, ...dist.CacheBehaviors].map((b: any) => b.ViewerProtocolPolicy)).toEqual(['redirect-to-https', 'redirect-to-https']);
    const b = dist.CacheBehaviors[0];
    t.hasResourceProperties('AWS::CloudFront::VpcOrigin', {
      VpcOriginEndpointConfig: Match.objectLike({ OriginProtocolPolicy: 'https-only', HTTPSPort: 443, OriginSSLProtocols: ['TLSv1.2'] }),
    });
    expect(policy('OriginRequestPolicyConfig', b.OriginRequestPolicyId).HeadersConfig.Headers).toContain('Host');
  });

  test('distribution: HTTP/2 and 3, IPv6, WAF, price class, access logs, security headers on both behaviors', () => {
    const t = build().template();
    const { dist, policy } = behaviors(t);
    expect(dist).toMatchObject({
      HttpVersion: 'http2and3',
      IPV6Enabled: true,
      WebACLId: `arn:aws:wafv2:us-east-1:${ENV.account}:global/webacl/edge/abc`,
      PriceClass: 'PriceClass_100',
      Logging: { Bucket: { 'Fn::GetAtt': [expect.stringMatching(/^Logs/), 'RegionalDomainName'] }, Prefix: 'cloudfront/', IncludeCookies: false },
    });
    expect(dist.DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual(dist.CacheBehaviors[0].ResponseHeadersPolicyId);
    const headers = policy('ResponseHeadersPolicyConfig', dist.DefaultCacheBehavior.ResponseHeadersPolicyId).SecurityHeadersConfig;
    expect(headers).toMatchObject({
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'strict-origin-when-cross-origin', Override: true },
      XSSProtection: { Protection: true, ModeBlock: true, Override: true },
    });
  });

  test('grants its distribution read access on a bucket of its own stack (bucket and key policy)', () => {
    const { template } = build();
    template().hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' })]) },
    });
    template().hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 'kms:Decrypt' })]) },
    });
  });

  test('leaves a bucket of another stack untouched (no cross-stack policy, no cycle)', () => {
    const { app, bucketStack, stack } = build({ bucketsElsewhere: true });
    const buckets = Template.fromStack(bucketStack);
    expect(JSON.stringify(buckets.toJSON())).not.toContain('cloudfront.amazonaws.com');
    expect(bucketStack.dependencies).toEqual([]);
    expect(stack.dependencies).toEqual([bucketStack]);
    expect(() => app.synth()).not.toThrow();
    const logging = behaviors(Template.fromStack(stack)).dist.Logging;
    // A cross-stack reference (cdk.json makes it a weak one), which the logging guard rule cannot follow.
    expect(logging.Bucket).toEqual({ 'Fn::GetStackOutput': { StackName: 'Buckets', Region: ENV.region, OutputName: expect.stringMatching(/FnGetAttLogs.*RegionalDomainName/) } });
  });

  test('clear errors for bad prop combinations', () => {
    expect(() => build({ props: { domainNames: ['www.example.com'] } })).toThrow(/domainNames and certificate go together/);
    expect(() => build({ api: { protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY } })).toThrow(/forwards the Host header .* no domainNames/);
    expect(() => build({ https: true, api: { protocolPolicy: cloudfront.OriginProtocolPolicy.MATCH_VIEWER } })).toThrow(/protocolPolicy must be HTTPS_ONLY or HTTP_ONLY/);
  });

  test('no API behavior without an API origin; SPA rewrite can be turned off', () => {
    const t = build({ api: false, props: { spaFallback: false } }).template();
    const { dist } = behaviors(t);
    expect(dist.CacheBehaviors).toBeUndefined();
    expect(dist.DefaultCacheBehavior.FunctionAssociations).toBeUndefined();
    t.resourceCountIs('AWS::CloudFront::Function', 0);
    t.resourceCountIs('AWS::CloudFront::VpcOrigin', 0);
  });

  test('application cookies are forwarded once each, next to the stickiness cookies', () => {
    const t = build({ props: { applicationCookies: ['sid', 'AWSALB', 'cart'] } }).template();
    const { dist, policy } = behaviors(t);
    expect(policy('OriginRequestPolicyConfig', dist.CacheBehaviors[0].OriginRequestPolicyId).CookiesConfig.Cookies)
      .toEqual(['AWSALB', 'AWSALBCORS', 'AWSALBAPP-0', 'AWSALBAPP-1', 'AWSALBAPP-2', 'AWSALBAPP-3', 'sid', 'cart']);
  });

  test.each([false, true])('no unacknowledged rule-pack findings (https: %s)', (https) => {
    expect(rulePackFindings(build({ https }).app)).toEqual([]);
  });

  test('no unacknowledged rule-pack findings with buckets in another stack', () => {
    expect(rulePackFindings(build({ bucketsElsewhere: true }).app)).toEqual([]);
  });
});
