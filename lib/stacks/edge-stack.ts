import { Duration, Tags } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeCrossRegionExports, controlTower } from '../compliance';
import { AssetBuckets } from '../constructs/asset-buckets';
import { Cdn } from '../constructs/cdn';
import { ResourceTag } from '../constructs/platform-cluster';
import { StickyLoadBalancer } from '../constructs/sticky-load-balancer';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface EdgeStackProps extends PlatformStackProps {
  /** VPC of the internal load balancer (private subnets) and the gateway pods. */
  readonly vpc: ec2.IVpc;
  /** The data stack's buckets: static assets (CloudFront origin) and access logs (ALB, CloudFront). */
  readonly buckets: AssetBuckets;
  /** Security group of the gateway pods (the EKS cluster security group); the ALB is let in on the gateway port. */
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  /**
   * Tag the cluster's load balancer controller requires on a target group before it registers pods
   * in it (PlatformCluster.targetGroupBindingTag).
   */
  readonly targetGroupBindingTag: ResourceTag;
  /** ARN of the CLOUDFRONT-scope web ACL (WafStack, us-east-1). */
  readonly webAclArn: string;
  /**
   * Topic every alarm of this stack notifies (AlertsStack).
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
}

const PRICE_CLASSES: Record<string, cloudfront.PriceClass> = {
  100: cloudfront.PriceClass.PRICE_CLASS_100,
  200: cloudfront.PriceClass.PRICE_CLASS_200,
  All: cloudfront.PriceClass.PRICE_CLASS_ALL,
};

/**
 * The way in: a CloudFront distribution (static site from S3, `/api/*` through a VPC origin to an
 * internal ALB) and that ALB with the sticky target group the workloads stack binds gateway pods to.
 * With a domain (required in staging and prod) every hop is TLS: viewers TLS 1.2+, CloudFront to
 * the ALB HTTPS with the ALB certificate; without one (dev) the VPC-origin hop is plain HTTP.
 */
export class EdgeStack extends PlatformStack {
  readonly loadBalancer: StickyLoadBalancer;
  readonly cdn: Cdn;
  /** Target group the workloads stack binds the gateway Service to (TargetGroupBinding). */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** Security group of the ALB (admits only CloudFront), for the workloads stack's NetworkPolicy / pod security rules. */
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, { ...props, crossRegionReferences: true });
    // Config validation guarantees the domain and both certificates come together.
    const edge = this.config.edge;

    this.loadBalancer = new StickyLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      targetPort: edge.gatewayPort,
      healthCheckPath: edge.healthCheckPath,
      deregistrationDelay: Duration.seconds(edge.deregistrationDelaySeconds),
      slowStart: Duration.seconds(edge.slowStartSeconds),
      stickiness: {
        duration: Duration.seconds(edge.stickiness.durationSeconds),
        appCookieName: edge.stickiness.mode === 'app_cookie' ? edge.stickiness.appCookieName : undefined,
      },
      certificate: edge.albCertificateArn ? acm.Certificate.fromCertificateArn(this, 'AlbCertificate', edge.albCertificateArn) : undefined,
      accessLogsBucket: props.buckets.accessLogs,
      accessLogsPrefix: 'alb',
      deletionProtection: this.config.retainData,
      idleTimeout: Duration.seconds(this.config.timeouts.loadBalancerIdleSeconds),
      alarmTopic: props.alarmTopic,
    });
    if (!this.config.retainData) {
      acknowledge(this.loadBalancer.loadBalancer, {
        id: controlTower('elbv2_deletion_protection_enabled_check'),
        reason: `retainData is false in ${this.config.envName}: the environment is torn down with its stacks, which deletion protection would block. `
          + 'Environments with retainData (staging, prod) turn it on.',
      });
    }
    this.targetGroup = this.loadBalancer.targetGroup;
    // The only target group the load balancer controller may write to (TargetGroupBinding).
    Tags.of(this.targetGroup).add(props.targetGroupBindingTag.key, props.targetGroupBindingTag.value);
    this.loadBalancerSecurityGroup = this.loadBalancer.securityGroup;

    // The rule lives here, not in the cluster stack: the cluster stack must not depend on this one.
    new ec2.CfnSecurityGroupIngress(this, 'LoadBalancerToGateway', {
      groupId: props.clusterSecurityGroup.securityGroupId,
      sourceSecurityGroupId: this.loadBalancerSecurityGroup.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: edge.gatewayPort,
      toPort: edge.gatewayPort,
      description: 'ALB to the gateway pods',
    });

    const https = this.loadBalancer.protocol === elbv2.ApplicationProtocol.HTTPS;
    this.cdn = new Cdn(this, 'Cdn', {
      comment: `${this.config.appName} ${this.config.envName}`,
      staticAssetsBucket: props.buckets.staticAssets,
      logBucket: props.buckets.accessLogs,
      apiOrigin: {
        loadBalancer: this.loadBalancer.loadBalancer,
        protocolPolicy: https ? cloudfront.OriginProtocolPolicy.HTTPS_ONLY : cloudfront.OriginProtocolPolicy.HTTP_ONLY,
        readTimeout: Duration.seconds(this.config.timeouts.cdnOriginReadSeconds),
      },
      apiDefaultTtl: Duration.seconds(edge.apiDefaultTtlSeconds),
      // The session cookie, and the app_cookie stickiness follows (when that mode is on).
      applicationCookies: [edge.sessionCookieName, ...(edge.stickiness.mode === 'app_cookie' && edge.stickiness.appCookieName ? [edge.stickiness.appCookieName] : [])],
      webAclArn: props.webAclArn,
      priceClass: PRICE_CLASSES[edge.priceClass],
      domainNames: edge.domainName ? [edge.domainName] : undefined,
      certificate: edge.cdnCertificateArn ? acm.Certificate.fromCertificateArn(this, 'CdnCertificate', edge.cdnCertificateArn) : undefined,
      // CloudFront's metrics live in us-east-1: elsewhere its alarms are the edge-alarms stack's.
      alarms: this.region === 'us-east-1',
      alarmTopic: props.alarmTopic,
    });
    this.distribution = this.cdn.distribution;
    acknowledgeCrossRegionExports(this, 'Reader');
    acknowledgeCrossRegionExports(this, 'Writer');
  }
}
