import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledge, controlTower } from '../../lib/compliance';
import { AlarmTopic, StickyLoadBalancer, StickyLoadBalancerProps } from '../../lib/constructs';
import { rulePackFindings, testApp } from '../support/synth';

const ACCOUNT = '123456789012';
const CERT = `arn:aws:acm:eu-west-1:${ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555`;

/** The construct in a stack of its own (region-agnostic when region is empty), with an imported VPC and a plain log bucket. */
function build(props: Partial<StickyLoadBalancerProps> & { https?: boolean; logsElsewhere?: boolean } = {}, region = 'eu-west-1') {
  const app = testApp();
  const stack = new Stack(app, 'Test', region ? { env: { account: ACCOUNT, region } } : {});
  const logsStack = props.logsElsewhere ? new Stack(app, 'Logs', { env: { account: ACCOUNT, region } }) : stack;
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    vpcCidrBlock: '10.0.0.0/16',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    privateSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'],
    privateSubnetRouteTableIds: ['rtb-0bbbbbbbbbbbbbbb1', 'rtb-0bbbbbbbbbbbbbbb2'],
  });
  const logs = new s3.Bucket(logsStack, 'Logs', { encryption: s3.BucketEncryption.S3_MANAGED, enforceSSL: true });
  // The app's access-logs bucket lives in the data stack and has its own tests; this one is a stand-in.
  acknowledge(logs, ...['AwsSolutions-S1', ...['s3_bucket_level_public_access_prohibited_check', 's3_bucket_default_encryption_kms_check',
    's3_bucket_versioning_enabled_check', 's3_bucket_logging_enabled_check', 's3_event_notifications_enabled_check',
    's3_lifecycle_policy_check', 's3_bucket_object_lock_enabled_check'].map(controlTower)].map((id) => ({ id, reason: 'test fixture' })));
  const { https, logsElsewhere, ...rest } = props;
  const certificate = https ? acm.Certificate.fromCertificateArn(stack, 'Cert', CERT) : undefined;
  const alarmTopic = new AlarmTopic(stack, 'AlarmTopic').topic;
  const alb = new StickyLoadBalancer(stack, 'Alb', { vpc, targetPort: 8080, accessLogsBucket: logs, certificate, alarmTopic, ...rest });
  return { app, stack, logsStack, alb, template: () => Template.fromStack(stack) };
}

const attributes = (template: Template): Record<string, string> => {
  const groups = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'));
  expect(groups).toHaveLength(1);
  return Object.fromEntries(groups[0].Properties.TargetGroupAttributes.map((a: any) => [a.Key, a.Value]));
};

describe('StickyLoadBalancer', () => {
  test('IP target group on the target port with health check, drain and slow start', () => {
    const { template } = build({ healthCheckPath: '/healthz', deregistrationDelay: Duration.seconds(15), slowStart: Duration.seconds(60) });
    template().hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetType: 'ip',
      Port: 8080,
      Protocol: 'HTTP',
      HealthCheckPath: '/healthz',
      HealthCheckEnabled: true,
      Matcher: { HttpCode: '200' },
    });
    expect(attributes(template())).toMatchObject({ 'deregistration_delay.timeout_seconds': '15', 'slow_start.duration_seconds': '60' });
  });

  test('slow start 0 leaves the attribute out', () => {
    const { template } = build({ slowStart: Duration.seconds(0) });
    expect(attributes(template())['slow_start.duration_seconds']).toBeUndefined();
  });

  test('lb_cookie stickiness by default (duration from props)', () => {
    const { template } = build({ stickiness: { duration: Duration.hours(2) } });
    const attrs = attributes(template());
    expect(attrs).toMatchObject({
      'stickiness.enabled': 'true',
      'stickiness.type': 'lb_cookie',
      'stickiness.lb_cookie.duration_seconds': '7200',
    });
    expect(attrs['stickiness.app_cookie.cookie_name']).toBeUndefined();
  });

  test('app_cookie stickiness with the application cookie name', () => {
    const { template } = build({ stickiness: { duration: Duration.days(1), appCookieName: 'sid' } });
    expect(attributes(template())).toMatchObject({
      'stickiness.enabled': 'true',
      'stickiness.type': 'app_cookie',
      'stickiness.app_cookie.cookie_name': 'sid',
      'stickiness.app_cookie.duration_seconds': '86400',
    });
  });

  test.each(['AWSALB', 'AWSALBAPP-0', 'awsalbtg'])('rejects the reserved app cookie name %s', (name) => {
    expect(() => build({ stickiness: { appCookieName: name } })).toThrow(/appCookieName '.*' starts with AWSALB/);
  });

  /** Every ingress rule of the load balancer's group (inline or separate resources). */
  const ingressOf = (t: Template): any[] => {
    const groups = t.findResources('AWS::EC2::SecurityGroup');
    expect(Object.keys(groups)).toHaveLength(1);
    const inline = Object.values(groups)[0].Properties.SecurityGroupIngress ?? [];
    const separate = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    return [...inline, ...separate];
  };

  test('security group: ingress only from the CloudFront prefix list (VPC-origin traffic), egress only to the targets', () => {
    const t = build().template();
    const sgId = t.getResourceId('AWS::EC2::SecurityGroup');
    expect(ingressOf(t)).toEqual([{
      GroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] },
      SourcePrefixListId: 'pl-4fa04526',
      IpProtocol: 'tcp',
      FromPort: 80,
      ToPort: 80,
      Description: 'CloudFront VPC origin only',
    }]);
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [{ CidrIp: '10.0.0.0/16', IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, Description: 'To the targets' }],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { SecurityGroups: [{ 'Fn::GetAtt': [sgId, 'GroupId'] }] });
  });

  test('prefix list id per region, overridable, clear error elsewhere', () => {
    expect(ingressOf(build({}, 'us-east-1').template()).map((r) => r.SourcePrefixListId)).toEqual(['pl-3b927c52']);
    expect(() => build({}, 'ap-east-1')).toThrow(/no CloudFront origin-facing prefix list id known for region 'ap-east-1'; pass originFacingPrefixListId/);
    expect(() => build({}, '')).toThrow(/no concrete region/);
    expect(ingressOf(build({ originFacingPrefixListId: 'pl-0123abcd' }, 'ap-east-1').template()).map((r) => r.SourcePrefixListId)).toEqual(['pl-0123abcd']);
  });

  test('listener: HTTP on 80 without a certificate, forwarding to the sticky target group; no secret, no header rule', () => {
    const t = build().template();
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: t.getResourceId('AWS::ElasticLoadBalancingV2::TargetGroup') } }],
    });
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0);
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  test('HTTPS listener with a certificate and a TLS 1.2+ policy, ingress on 443', () => {
    const app = build({ https: true });
    const t = app.template();
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERT }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
    expect(ingressOf(t)).toEqual([expect.objectContaining({ SourcePrefixListId: 'pl-4fa04526', FromPort: 443, ToPort: 443 })]);
    expect(app.alb.protocol).toBe('HTTPS');
  });

  test('load balancer: internal in the private subnets, invalid headers dropped, deletion protection, access logs', () => {
    const { template } = build({ accessLogsPrefix: 'edge-alb' });
    template().hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      Subnets: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'],
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'deletion_protection.enabled', Value: 'true' },
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
        { Key: 'access_logs.s3.prefix', Value: 'edge-alb' },
      ]),
    });
    const off = build({ deletionProtection: false }).template();
    off.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'false' }]),
    });
  });

  test('a log bucket in another stack gets the delivery grant without depending on the load balancer', () => {
    const { app, stack, logsStack } = build({ logsElsewhere: true });
    expect(logsStack.dependencies).toEqual([]);
    expect(stack.dependencies).toEqual([logsStack]);
    expect(rulePackFindings(app)).toEqual([]);
    Template.fromStack(logsStack).hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 's3:PutObject', Principal: { Service: 'delivery.logs.amazonaws.com' } })]) },
    });
  });

  test.each([false, true])('no unacknowledged rule-pack findings (https: %s)', (https) => {
    expect(rulePackFindings(build({ https }).app)).toEqual([]);
  });
});
