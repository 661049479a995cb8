import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeCrossRegionExports } from '../compliance';
import { EdgeWebAcl, WebAclScope } from '../constructs/edge-web-acl';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface WafStackProps extends PlatformStackProps {
  /**
   * Topic (in us-east-1) the web ACL's alarm notifies.
   * @default - an alarm without actions
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * The CloudFront web ACL. WAF for CloudFront exists only in us-east-1, so this small stack is
 * pinned there whatever the app's region; its ARN reaches the edge stack through
 * `crossRegionReferences` (an SSM parameter written into the edge stack's region).
 */
export class WafStack extends PlatformStack {
  readonly webAcl: EdgeWebAcl;

  constructor(scope: Construct, id: string, props: WafStackProps) {
    super(scope, id, { ...props, env: { account: props.config.account, region: 'us-east-1' }, crossRegionReferences: true });
    const { appName, envName, edge, retainData } = this.config;
    this.webAcl = new EdgeWebAcl(this, 'WebAcl', {
      name: `${appName}-${envName}-edge`,
      scope: WebAclScope.CLOUDFRONT,
      rateLimitPer5Min: edge.waf.rateLimitPer5Min,
      allowCidrs: edge.waf.allowCidrs,
      denyCidrs: edge.waf.denyCidrs,
      logRetention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      alarmTopic: props.alarmTopic,
    });
    acknowledgeCrossRegionExports(this, 'Writer');
  }
}
