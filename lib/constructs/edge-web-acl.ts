import { ArnFormat, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { createAlarms, GT, over } from './alarms';
import { EncryptionKey } from './encryption-key';

/** AWS managed rule groups every web ACL of this construct runs, in evaluation order. */
export const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesCommonRuleSet',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesSQLiRuleSet',
] as const;

/** Where a web ACL can be attached. */
export enum WebAclScope {
  /** CloudFront distributions; the web ACL must be created in us-east-1. */
  CLOUDFRONT = 'CLOUDFRONT',
  /** Regional resources: Application Load Balancers, API Gateway, AppSync, Cognito. */
  REGIONAL = 'REGIONAL',
}

/** When the EdgeWebAcl alarm fires. */
export interface WebAclAlarmThresholds {
  /**
   * BlockedRequests of the whole web ACL (sum over 5 minutes) above this, in 2 of 3 periods: an attack,
   * a misbehaving client hitting the rate limit, or a managed rule blocking real traffic.
   * @default 1000
   */
  readonly blockedRequestsPer5Min?: number;
}

export interface EdgeWebAclProps {
  /**
   * Name of the web ACL; also the suffix of its log group `aws-waf-logs-<name>` and its metric prefix.
   * @default - a name unique to the construct path
   */
  readonly name?: string;
  /**
   * CLOUDFRONT for a distribution (the stack must be in us-east-1), or REGIONAL (ALB, API Gateway).
   * @default WebAclScope.CLOUDFRONT
   */
  readonly scope?: WebAclScope;
  /**
   * Requests per client IP in 5 minutes before the rate-based rule blocks it (10 to 2,000,000,000).
   * @default 2000
   */
  readonly rateLimitPer5Min?: number;
  /**
   * IPv4 CIDRs always allowed: evaluated after the deny list and before every other rule.
   * @default [] - no allow rule and no IP set
   */
  readonly allowCidrs?: string[];
  /**
   * IPv4 CIDRs always blocked: the first rule.
   * @default [] - no deny rule and no IP set
   */
  readonly denyCidrs?: string[];
  /**
   * Rules of the Common rule set to switch to count mode (e.g. `SizeRestrictions_BODY` for large uploads).
   * @default [] - all rules block
   */
  readonly commonRuleSetCountRules?: string[];
  /**
   * Retention of the WAF logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * KMS key of the log group (its policy must let CloudWatch Logs of this region use it).
   * @default - a new EncryptionKey with CloudWatch Logs access
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * What a stack delete does to the log group and its key.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * A CloudWatch alarm on a spike of blocked requests (in the web ACL's region: us-east-1 for CLOUDFRONT).
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * Topic the alarm notifies (alarm and OK); in the web ACL's region.
   * @default - an alarm without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * When the alarm fires.
   * @default - the defaults of each WebAclAlarmThresholds field
   */
  readonly alarmThresholds?: WebAclAlarmThresholds;
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * A WAFv2 web ACL for the edge: IP deny and allow lists, a per-IP rate limit, and the AWS managed
 * IP-reputation, Common, KnownBadInputs and SQLi rule groups, each with CloudWatch metrics and
 * sampled requests; full logs to an encrypted CloudWatch log group (Authorization and Cookie redacted).
 */
export class EdgeWebAcl extends Construct {
  /** The web ACL. */
  readonly webAcl: wafv2.CfnWebACL;
  /** ARN of the web ACL (for `Distribution.webAclId` or an association). */
  readonly arn: string;
  /** IP set of the allow list (undefined when allowCidrs is empty). */
  readonly allowIpSet?: wafv2.CfnIPSet;
  /** IP set of the deny list (undefined when denyCidrs is empty). */
  readonly denyIpSet?: wafv2.CfnIPSet;
  /** Log group `aws-waf-logs-<name>` receiving every request's log record. */
  readonly logGroup: logs.LogGroup;
  /** Key encrypting the log group. */
  readonly logEncryptionKey: kms.IKey;
  /** The logging configuration of the web ACL. */
  readonly loggingConfiguration: wafv2.CfnLoggingConfiguration;
  /** Name of the web ACL (the `WebACL` dimension of its metrics). */
  readonly name: string;
  /** The CloudWatch alarms (empty with `alarms: false`). */
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: EdgeWebAclProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const wafScope = props.scope ?? WebAclScope.CLOUDFRONT;
    if (wafScope === WebAclScope.CLOUDFRONT && !Token.isUnresolved(stack.region) && stack.region !== 'us-east-1') {
      throw new Error(`EdgeWebAcl: a CLOUDFRONT-scope web ACL must be created in us-east-1, but stack ${stack.stackName} is in ${stack.region}; put it in a us-east-1 stack with crossRegionReferences`);
    }
    const name = props.name ?? Names.uniqueResourceName(this, { maxLength: 100, separator: '-' });
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(name)) {
      throw new Error(`EdgeWebAcl: name must be 1-100 letters, digits, _ or - (got '${name}')`);
    }
    const rateLimit = props.rateLimitPer5Min ?? 2000;
    if (!Number.isInteger(rateLimit) || rateLimit < 10 || rateLimit > 2_000_000_000) {
      throw new Error(`EdgeWebAcl: rateLimitPer5Min must be an integer from 10 to 2000000000 (got ${rateLimit})`);
    }
    const visibility = (metric: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `${name}-${metric}`,
    });

    const rules: wafv2.CfnWebACL.RuleProperty[] = [];
    const ipRule = (kind: 'Deny' | 'Allow', cidrs: string[] | undefined): wafv2.CfnIPSet | undefined => {
      if (!cidrs || cidrs.length === 0) return undefined;
      const bad = cidrs.filter((c) => !IPV4_CIDR.test(c));
      if (bad.length > 0) throw new Error(`EdgeWebAcl: ${kind.toLowerCase()}Cidrs must be IPv4 CIDRs like 203.0.113.0/24 (got ${bad.join(', ')})`);
      const set = new wafv2.CfnIPSet(this, `${kind}IpSet`, {
        name: `${name}-${kind.toLowerCase()}`,
        scope: wafScope,
        ipAddressVersion: 'IPV4',
        addresses: cidrs,
        description: `${kind} list of the ${name} web ACL`,
      });
      rules.push({
        name: `${kind}ListedIps`,
        priority: rules.length,
        statement: { ipSetReferenceStatement: { arn: set.attrArn } },
        action: kind === 'Deny' ? { block: {} } : { allow: {} },
        visibilityConfig: visibility(`${kind}ListedIps`),
      });
      return set;
    };
    this.denyIpSet = ipRule('Deny', props.denyCidrs);
    this.allowIpSet = ipRule('Allow', props.allowCidrs);
    rules.push({
      name: 'RateLimitPerIp',
      priority: rules.length,
      statement: { rateBasedStatement: { limit: rateLimit, aggregateKeyType: 'IP', evaluationWindowSec: 300 } },
      action: { block: {} },
      visibilityConfig: visibility('RateLimitPerIp'),
    });
    for (const group of MANAGED_RULE_GROUPS) {
      const countRules = group === 'AWSManagedRulesCommonRuleSet' ? props.commonRuleSetCountRules ?? [] : [];
      rules.push({
        name: group,
        priority: rules.length,
        statement: {
          managedRuleGroupStatement: {
            vendorName: 'AWS',
            name: group,
            ruleActionOverrides: countRules.length > 0 ? countRules.map((r) => ({ name: r, actionToUse: { count: {} } })) : undefined,
          },
        },
        overrideAction: { none: {} },
        visibilityConfig: visibility(group),
      });
    }

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name,
      scope: wafScope,
      description: 'Edge web ACL: IP lists, rate limit, AWS managed rule groups',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('WebAcl'),
      rules,
    });
    this.arn = this.webAcl.attrArn;

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.logEncryptionKey = props.logEncryptionKey ?? new EncryptionKey(this, 'LogKey', {
      description: `Encrypts the WAF logs of ${name}`,
      cloudWatchLogs: true,
      removalPolicy,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // WAF only delivers to log groups whose name starts with aws-waf-logs-.
      logGroupName: `aws-waf-logs-${name}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: this.logEncryptionKey,
      removalPolicy,
    });
    this.loggingConfiguration = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // WAF rejects the log group ARN with the ':*' suffix that GetAtt returns.
      logDestinationConfigs: [stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: this.logGroup.logGroupName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      })],
      // Tokens and sessions stay out of the logs.
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }],
    });
    this.loggingConfiguration.node.addDependency(this.logGroup);

    this.name = name;
    const blocked = props.alarmThresholds?.blockedRequestsPer5Min ?? 1000;
    this.alarms = createAlarms(this, { enabled: props.alarms ?? true, topic: props.alarmTopic }, [{
      id: 'BlockedRequests',
      metric: over(this.metricBlockedRequests(), 'Sum', Duration.minutes(5)),
      threshold: blocked,
      comparison: GT,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description: `WAF ${name}: more than ${blocked} requests blocked in 5 min. Check the web ACL's sampled requests and the aws-waf-logs-${name} log group: which rule, which client IPs; a managed rule blocking real users needs a count override.`,
    }]);
  }

  /** Requests the web ACL blocked (all rules), as CloudWatch reports them in its region. */
  metricBlockedRequests(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('BlockedRequests', props);
  }

  /** Requests the web ACL allowed (all rules). */
  metricAllowedRequests(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('AllowedRequests', props);
  }

  private metric(metricName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    const scope = this.webAcl.scope;
    return new cloudwatch.Metric({
      namespace: 'AWS/WAFV2',
      metricName,
      // CLOUDFRONT-scope metrics carry no Region dimension (and live in us-east-1).
      dimensionsMap: { WebACL: this.name, Rule: 'ALL', ...(scope === WebAclScope.REGIONAL ? { Region: Stack.of(this).region } : {}) },
      statistic: 'Sum',
      ...props,
    });
  }
}
