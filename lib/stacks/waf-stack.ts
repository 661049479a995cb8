import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, controlTower } from '../compliance';
import { EdgeWebAcl } from '../constructs/edge-web-acl';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/**
 * Acknowledges the VPC rule on CDK's cross-region export Lambda (`Writer` in the producing stack,
 * `Reader` in the consuming one). CDK creates it while resolving references at synth, after every
 * constructor has run, so the acknowledgement is attached from a validation hook, which runs later.
 */
export function acknowledgeCrossRegionExports(stack: Stack, kind: 'Writer' | 'Reader'): void {
  stack.node.addValidation({
    validate: () => {
      const provider = stack.node.tryFindChild(`Custom::CrossRegionExport${kind}CustomResourceProvider`);
      if (provider) {
        acknowledge(provider, {
          id: controlTower('lambda_inside_vpc_check'),
          reason: `CDK's cross-region export ${kind.toLowerCase()} runs only during deployments and only calls the SSM API of the two `
            + 'regions; this stack has no VPC to place it in, and a VPC would add endpoints or NAT for no protection.',
        });
      }
      return [];
    },
  });
}

/**
 * The CloudFront web ACL. WAF for CloudFront exists only in us-east-1, so this small stack is
 * pinned there whatever the app's region; its ARN reaches the edge stack through
 * `crossRegionReferences` (an SSM parameter written into the edge stack's region).
 */
export class WafStack extends PlatformStack {
  readonly webAcl: EdgeWebAcl;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, { ...props, env: { account: props.config.account, region: 'us-east-1' }, crossRegionReferences: true });
    const { appName, envName, edge, retainData } = this.config;
    this.webAcl = new EdgeWebAcl(this, 'WebAcl', {
      name: `${appName}-${envName}-edge`,
      scope: 'CLOUDFRONT',
      rateLimitPer5Min: edge.waf.rateLimitPer5Min,
      allowCidrs: edge.waf.allowCidrs,
      denyCidrs: edge.waf.denyCidrs,
      logRetention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    acknowledgeCrossRegionExports(this, 'Writer');
  }
}
