import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge, controlTower } from '../compliance';
import { createAlarms, GT, GTE, over } from './alarms';

/**
 * Id of the AWS-managed prefix list `com.amazonaws.global.cloudfront.origin-facing`, per region.
 * Traffic from a CloudFront VPC origin reaches the load balancer from these addresses (one of the
 * two ways AWS documents to admit VPC-origin traffic; the other, the service-managed group
 * `CloudFront-VPCOrigins-Service-SG`, has no id until CloudFront creates it, so only a deploy-time
 * lookup could name it). The ids differ per region and never change; a table avoids a `fromLookup` (offline synth).
 * Source: the AWS networking blog post "Limit access to your origins using the AWS-managed prefix
 * list for Amazon CloudFront", cross-checked in several public templates. Regions not listed here
 * need `originFacingPrefixListId` (`aws ec2 describe-managed-prefix-lists --filters
 * Name=prefix-list-name,Values=com.amazonaws.global.cloudfront.origin-facing`).
 */
export const CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS: Readonly<Record<string, string>> = {
  'ap-northeast-1': 'pl-58a04531',
  'ap-northeast-2': 'pl-22a6434b',
  'ap-south-1': 'pl-9aa247f3',
  'ap-southeast-1': 'pl-31a34658',
  'ap-southeast-2': 'pl-b8a742d1',
  'ca-central-1': 'pl-38a64351',
  'eu-central-1': 'pl-a3a144ca',
  'eu-north-1': 'pl-fab65393',
  'eu-west-1': 'pl-4fa04526',
  'eu-west-2': 'pl-93a247fa',
  'eu-west-3': 'pl-75b1541c',
  'sa-east-1': 'pl-5da64334',
  'us-east-1': 'pl-3b927c52',
  'us-east-2': 'pl-b6a144df',
  'us-west-1': 'pl-4ea04527',
  'us-west-2': 'pl-82a045eb',
};

/** How the target group keeps a client on one target. */
export interface StickinessOptions {
  /**
   * How long a client stays on its target (1 second to 7 days).
   * @default Duration.hours(1)
   */
  readonly duration?: Duration;
  /**
   * Application cookie to follow (`app_cookie` stickiness: the ALB sets `AWSALBAPP-*` next to it).
   * Must not start with `AWSALB` (reserved by the load balancer).
   * @default - duration-based stickiness with the load balancer's own cookie `AWSALB` (`lb_cookie`)
   */
  readonly appCookieName?: string;
}

/** When the StickyLoadBalancer alarms fire (every alarm looks at periods of 5 minutes). */
export interface LoadBalancerAlarmThresholds {
  /**
   * HTTPCode_ELB_5XX_Count (sum) above this in 2 of 3 periods: the load balancer itself answered 5xx
   * (502/503/504: no healthy target, target reset or timed out).
   * @default 10
   */
  readonly elb5xxCount?: number;
  /**
   * HTTPCode_Target_5XX_Count (sum) above this in 2 of 3 periods: the gateway answered 5xx.
   * @default 10
   */
  readonly target5xxCount?: number;
  /**
   * TargetResponseTime p99 above this for 3 periods.
   * @default Duration.seconds(2)
   */
  readonly targetResponseTimeP99?: Duration;
  /**
   * UnHealthyHostCount (maximum) at or above this for 2 periods.
   * @default 1
   */
  readonly unhealthyHosts?: number;
  /**
   * RejectedConnectionCount (sum) above this in a period: the load balancer hit its connection limit.
   * @default 0
   */
  readonly rejectedConnections?: number;
}

export interface StickyLoadBalancerProps {
  /** VPC of the load balancer and its targets. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the internal load balancer (CloudFront reaches it through a VPC origin, which needs
   * an internet gateway in the VPC but no public subnet for the load balancer).
   * @default - the private subnets with egress of `vpc`
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Port the targets (gateway pods) listen on; the target group port. */
  readonly targetPort: number;
  /**
   * Health check path on the targets.
   * @default '/'
   */
  readonly healthCheckPath?: string;
  /**
   * How long the load balancer drains a deregistering target.
   * @default Duration.seconds(30)
   */
  readonly deregistrationDelay?: Duration;
  /**
   * Ramp-up time for a new target (30 to 900 seconds).
   * @default - no slow start
   */
  readonly slowStart?: Duration;
  /**
   * Sticky sessions: `lb_cookie` (no `appCookieName`) or `app_cookie` (with one).
   * @default - `lb_cookie` for one hour
   */
  readonly stickiness?: StickinessOptions;
  /**
   * ACM certificate (in the load balancer's region) for an HTTPS listener on 443. Its names must
   * cover the host name CloudFront sends (the viewer's domain when the Host header is forwarded).
   * @default - an HTTP listener on 80: CloudFront's VPC origin to the load balancer is then
   *   unencrypted inside AWS; for development environments only
   */
  readonly certificate?: acm.ICertificate;
  /**
   * TLS policy of the HTTPS listener (only with `certificate`).
   * @default elbv2.SslPolicy.RECOMMENDED_TLS (TLS 1.2 and 1.3)
   */
  readonly sslPolicy?: elbv2.SslPolicy;
  /**
   * Id of the CloudFront origin-facing managed prefix list in this region (the only ingress: the
   * addresses VPC-origin traffic comes from).
   * @default - from `CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS` for the stack's region; an error for other regions
   */
  readonly originFacingPrefixListId?: string;
  /** Bucket for the ALB access logs (SSE-S3: the ALB cannot write to a KMS-encrypted bucket). */
  readonly accessLogsBucket: s3.IBucket;
  /**
   * Key prefix of the access logs in the bucket.
   * @default 'alb'
   */
  readonly accessLogsPrefix?: string;
  /**
   * Deletion protection of the load balancer.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Idle timeout of client connections (CloudFront's origin keep-alive is at most 60 s by default).
   * @default Duration.seconds(60)
   */
  readonly idleTimeout?: Duration;
  /**
   * CloudWatch alarms: load balancer and target 5xx, p99 target response time, unhealthy targets,
   * rejected connections.
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * Topic every alarm notifies (alarm and OK).
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * When the alarms fire.
   * @default - the defaults of each LoadBalancerAlarmThresholds field
   */
  readonly alarmThresholds?: LoadBalancerAlarmThresholds;
}

/**
 * An internal Application Load Balancer for a CloudFront VPC origin: private subnets, no public
 * address, and a security group of its own that admits only CloudFront's origin-facing addresses
 * (the traffic of VPC origins). Its listener forwards to a sticky IP target group (pods bound by a
 * TargetGroupBinding); HTTPS with a certificate, plain HTTP only without one.
 */
export class StickyLoadBalancer extends Construct {
  /** The load balancer (internal). */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** Security group of the load balancer: ingress from CloudFront only, egress to the targets' port. */
  readonly securityGroup: ec2.SecurityGroup;
  /** Sticky IP target group on `targetPort`. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** HTTPS listener on 443 with a certificate, else HTTP on 80; forwards to the target group. */
  readonly listener: elbv2.ApplicationListener;
  /** Protocol CloudFront must use to reach this load balancer. */
  readonly protocol: elbv2.ApplicationProtocol;
  /** Id of the prefix list allowed in. */
  readonly originFacingPrefixListId: string;
  /** The CloudWatch alarms (empty with `alarms: false`). */
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: StickyLoadBalancerProps) {
    super(scope, id);
    this.originFacingPrefixListId = props.originFacingPrefixListId ?? this.prefixListForRegion();
    if (props.sslPolicy && !props.certificate) {
      throw new Error('StickyLoadBalancer: sslPolicy needs a certificate (the listener is plain HTTP without one)');
    }
    this.protocol = props.certificate ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP;
    const listenerPort = props.certificate ? 443 : 80;

    // The prefix list weighs ~55 rules of the 60-rule quota: nothing else goes into this group.
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Internal ALB: ingress only from CloudFront (VPC origin) through the origin-facing prefix list',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(
      ec2.Peer.prefixList(this.originFacingPrefixListId),
      ec2.Port.tcp(listenerPort),
      'CloudFront VPC origin only',
    );
    // Targets are pod IPs inside the VPC: egress only there, only on the target port.
    this.securityGroup.addEgressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(props.targetPort), 'To the targets');

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      internetFacing: false,
      securityGroup: this.securityGroup,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: elbv2.DesyncMitigationMode.DEFENSIVE,
      http2Enabled: true,
      idleTimeout: props.idleTimeout ?? Duration.seconds(60),
      deletionProtection: props.deletionProtection ?? true,
    });
    // Adds the ELB log-delivery grant to the bucket policy; it names nothing of this stack, so a
    // bucket in another stack gets no reference back (no cycle).
    this.loadBalancer.logAccessLogs(props.accessLogsBucket, props.accessLogsPrefix ?? 'alb');
    if (Stack.of(props.accessLogsBucket) !== Stack.of(this)) {
      acknowledge(this.loadBalancer, {
        id: controlTower('elbv2_logging_enabled_check'),
        reason: 'Access logs are on: the log bucket lives in another stack, so the template names it through a cross-stack '
          + 'reference (Fn::GetStackOutput or Fn::ImportValue), which the guard rule cannot resolve: it accepts only a literal or a same-template reference.',
      });
    }

    const slowStart = props.slowStart && props.slowStart.toSeconds() > 0 ? props.slowStart : undefined;
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: props.vpc,
      targetType: elbv2.TargetType.IP,
      protocol: elbv2.ApplicationProtocol.HTTP,
      port: props.targetPort,
      deregistrationDelay: props.deregistrationDelay ?? Duration.seconds(30),
      slowStart,
      healthCheck: {
        enabled: true,
        path: props.healthCheckPath ?? '/',
        protocol: elbv2.Protocol.HTTP,
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    const stickiness = props.stickiness ?? {};
    const appCookie = stickiness.appCookieName;
    if (appCookie !== undefined && !Token.isUnresolved(appCookie) && /^AWSALB/i.test(appCookie)) {
      throw new Error(`StickyLoadBalancer: stickiness.appCookieName '${appCookie}' starts with AWSALB, which the load balancer reserves for its own cookies; use the application's cookie name (e.g. 'sid')`);
    }
    this.targetGroup.enableCookieStickiness(stickiness.duration ?? Duration.hours(1), appCookie);

    this.listener = this.loadBalancer.addListener('Listener', {
      port: listenerPort,
      protocol: this.protocol,
      certificates: props.certificate ? [elbv2.ListenerCertificate.fromCertificateManager(props.certificate)] : undefined,
      sslPolicy: props.certificate ? props.sslPolicy ?? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
      open: false,
      defaultAction: elbv2.ListenerAction.forward([this.targetGroup]),
    });
    this.alarms = this.createAlarms(props);
    if (!props.certificate) {
      acknowledge(this.listener, {
        id: controlTower('alb_http_to_https_redirection_check'),
        reason: 'No certificate given (the platform allows this only in dev, without a domain): this internal listener is the '
          + 'target of a CloudFront VPC origin, not a viewer endpoint. Viewers get HTTPS at CloudFront (redirect-to-https); '
          + 'a redirect here would send CloudFront to an HTTPS listener that does not exist.',
      });
    }
  }

  private createAlarms(props: StickyLoadBalancerProps): cloudwatch.Alarm[] {
    const t = props.alarmThresholds ?? {};
    const five = Duration.minutes(5);
    const lb = this.loadBalancer.metrics;
    const tg = this.targetGroup.metrics;
    const elb5xx = t.elb5xxCount ?? 10;
    const target5xx = t.target5xxCount ?? 10;
    const p99 = t.targetResponseTimeP99 ?? Duration.seconds(2);
    const unhealthy = t.unhealthyHosts ?? 1;
    const rejected = t.rejectedConnections ?? 0;
    return createAlarms(this, { enabled: props.alarms ?? true, topic: props.alarmTopic }, [
      { id: 'Elb5xx', metric: over(lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT), 'Sum', five), threshold: elb5xx, comparison: GT, evaluationPeriods: 3, datapointsToAlarm: 2,
        description: `ALB ${this.node.path}: more than ${elb5xx} 5xx answered by the load balancer in 5 min (no healthy target, or targets reset/timed out). Check UnHealthyHostCount and the gateway pods.` },
      { id: 'Target5xx', metric: over(tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT), 'Sum', five), threshold: target5xx, comparison: GT, evaluationPeriods: 3, datapointsToAlarm: 2,
        description: `ALB ${this.node.path}: more than ${target5xx} 5xx from the gateway in 5 min. Check the gateway's logs (status >= 500) and the services' 5xx on the dashboard.` },
      { id: 'TargetResponseTimeP99', metric: over(tg.targetResponseTime(), 'p99', five), threshold: p99.toMilliseconds() / 1000, comparison: GT, evaluationPeriods: 3,
        description: `ALB ${this.node.path}: p99 target response time above ${p99.toMilliseconds() / 1000} s for 15 min. Check the services' latency rows and the data stores' CPU.` },
      { id: 'UnhealthyHosts', metric: over(tg.unhealthyHostCount(), 'Maximum', five), threshold: unhealthy, comparison: GTE, evaluationPeriods: 2,
        description: `ALB ${this.node.path}: ${unhealthy} or more gateway targets unhealthy for 10 min. Check the gateway pods' readiness and the TargetGroupBinding.` },
      { id: 'RejectedConnections', metric: over(lb.rejectedConnectionCount(), 'Sum', five), threshold: rejected, comparison: GT,
        description: `ALB ${this.node.path}: connections rejected (the load balancer reached its maximum). Check request volume and the WAF rate limit.` },
    ]);
  }

  private prefixListForRegion(): string {
    const region = Stack.of(this).region;
    if (Token.isUnresolved(region)) {
      throw new Error('StickyLoadBalancer: the stack has no concrete region, so the CloudFront origin-facing prefix list id cannot be chosen; set env.region on the stack or pass originFacingPrefixListId');
    }
    const id = CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS[region];
    if (!id) {
      throw new Error(`StickyLoadBalancer: no CloudFront origin-facing prefix list id known for region '${region}'; pass originFacingPrefixListId (known regions: ${Object.keys(CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS).join(', ')})`);
    }
    return id;
  }
}
