import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AlarmTopic, EdgeWebAcl, EdgeWebAclProps, WebAclScope } from '../../lib/constructs';
import { rulePackFindings, testApp } from '../support/synth';

function build(props: EdgeWebAclProps = {}, region = 'us-east-1') {
  const app = testApp();
  const stack = new Stack(app, 'Waf', { env: { account: '123456789012', region } });
  const alarmTopic = new AlarmTopic(stack, 'AlarmTopic').topic;
  const acl = new EdgeWebAcl(stack, 'Acl', { name: 'edge', alarmTopic, ...props });
  return { app, stack, acl, template: () => Template.fromStack(stack) };
}

const rulesOf = (t: Template): any[] => Object.values(t.findResources('AWS::WAFv2::WebACL'))[0].Properties.Rules;

describe('EdgeWebAcl', () => {
  test('CLOUDFRONT scope, default allow, rate limit then the managed groups, metrics on every rule', () => {
    const t = build({ rateLimitPer5Min: 1500 }).template();
    t.hasResourceProperties('AWS::WAFv2::WebACL', {
      Name: 'edge',
      Scope: 'CLOUDFRONT',
      DefaultAction: { Allow: {} },
      VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true, MetricName: 'edge-WebAcl' },
    });
    const rules = rulesOf(t);
    expect(rules.map((r) => [r.Priority, r.Name])).toEqual([
      [0, 'RateLimitPerIp'],
      [1, 'AWSManagedRulesAmazonIpReputationList'],
      [2, 'AWSManagedRulesCommonRuleSet'],
      [3, 'AWSManagedRulesKnownBadInputsRuleSet'],
      [4, 'AWSManagedRulesSQLiRuleSet'],
    ]);
    expect(rules[0]).toMatchObject({
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: 1500, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
    });
    for (const rule of rules.slice(1)) {
      expect(rule.Statement.ManagedRuleGroupStatement).toEqual({ VendorName: 'AWS', Name: rule.Name });
      expect(rule.OverrideAction).toEqual({ None: {} });
    }
    for (const rule of rules) {
      expect(rule.VisibilityConfig).toEqual({ CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true, MetricName: `edge-${rule.Name}` });
    }
    t.resourceCountIs('AWS::WAFv2::IPSet', 0);
  });

  test('IP sets only when the lists are non-empty: deny first (block), then allow (allow)', () => {
    const t = build({ denyCidrs: ['198.51.100.0/24'], allowCidrs: ['203.0.113.0/24', '192.0.2.10/32'] }).template();
    t.resourceCountIs('AWS::WAFv2::IPSet', 2);
    t.hasResourceProperties('AWS::WAFv2::IPSet', { Name: 'edge-deny', Scope: 'CLOUDFRONT', IPAddressVersion: 'IPV4', Addresses: ['198.51.100.0/24'] });
    t.hasResourceProperties('AWS::WAFv2::IPSet', { Name: 'edge-allow', Scope: 'CLOUDFRONT', IPAddressVersion: 'IPV4', Addresses: ['203.0.113.0/24', '192.0.2.10/32'] });
    const rules = rulesOf(t);
    expect(rules.slice(0, 3).map((r) => [r.Priority, r.Name, Object.keys(r.Action)[0]])).toEqual([
      [0, 'DenyListedIps', 'Block'],
      [1, 'AllowListedIps', 'Allow'],
      [2, 'RateLimitPerIp', 'Block'],
    ]);
    expect(rules[0].Statement.IPSetReferenceStatement.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^AclDenyIpSet/), 'Arn'] });
    const onlyDeny = build({ denyCidrs: ['198.51.100.0/24'] }).template();
    onlyDeny.resourceCountIs('AWS::WAFv2::IPSet', 1);
    expect(rulesOf(onlyDeny).map((r) => r.Name)).not.toContain('AllowListedIps');
  });

  test('Common rule set rules can be switched to count', () => {
    const rules = rulesOf(build({ commonRuleSetCountRules: ['SizeRestrictions_BODY'] }).template());
    expect(rules.find((r) => r.Name === 'AWSManagedRulesCommonRuleSet').Statement.ManagedRuleGroupStatement.RuleActionOverrides)
      .toEqual([{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }]);
  });

  test('logs to an encrypted aws-waf-logs- log group with retention, secrets redacted', () => {
    const t = build({ removalPolicy: RemovalPolicy.DESTROY }).template();
    t.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: 'aws-waf-logs-edge', RetentionInDays: 365, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AclLogKey'), 'Arn'] } },
      DeletionPolicy: 'Delete',
    });
    t.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      ResourceArn: { 'Fn::GetAtt': [t.getResourceId('AWS::WAFv2::WebACL'), 'Arn'] },
      // No ':*' suffix (WAF rejects it).
      LogDestinationConfigs: [{ 'Fn::Join': ['', ['arn:aws:logs:us-east-1:123456789012:log-group:', { Ref: Match.stringLikeRegexp('^AclLogs') }]] }],
      RedactedFields: [{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'cookie' } }],
    });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'logs.us-east-1.amazonaws.com' } })]) } });
  });

  test('clear errors for bad props', () => {
    expect(() => build({}, 'eu-west-1')).toThrow(/CLOUDFRONT-scope web ACL must be created in us-east-1/);
    expect(() => build({ scope: WebAclScope.REGIONAL }, 'eu-west-1')).not.toThrow();
    expect(() => build({ denyCidrs: ['2001:db8::/32'] })).toThrow(/denyCidrs must be IPv4 CIDRs .*2001:db8::\/32/);
    expect(() => build({ rateLimitPer5Min: 5 })).toThrow(/rateLimitPer5Min must be an integer from 10/);
    expect(() => build({ name: 'bad name' })).toThrow(/name must be/);
  });

  test('no unacknowledged rule-pack findings', () => {
    expect(rulePackFindings(build({ denyCidrs: ['198.51.100.0/24'], allowCidrs: ['203.0.113.0/24'] }).app)).toEqual([]);
  });
});
