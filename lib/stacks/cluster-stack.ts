import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledge, controlTower } from '../compliance';
import { EndpointAccessMode } from '../config';
import { PlatformCluster } from '../constructs/platform-cluster';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface ClusterStackProps extends PlatformStackProps {
  readonly vpc: ec2.IVpc;
  /** Group the data stores accept; every node carries it (NetworkStack.workloadsSecurityGroup). */
  readonly workloadsSecurityGroup: ec2.ISecurityGroup;
  /**
   * Topic every alarm of this stack notifies (AlertsStack).
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
}

/** The EKS cluster of the platform, from config. No dependency on the data stack. */
export class ClusterStack extends PlatformStack {
  readonly platformCluster: PlatformCluster;
  readonly cluster: eks.Cluster;
  /** The EKS cluster security group (nodes and control plane). */
  readonly clusterSecurityGroup: ec2.ISecurityGroup;

  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    super(scope, id, props);
    const c = this.config.cluster;
    this.platformCluster = new PlatformCluster(this, 'Platform', {
      vpc: props.vpc,
      clusterName: `${this.config.appName}-${this.config.envName}`,
      kubernetesVersion: c.kubernetesVersion,
      endpointAccess: endpointAccess(c.endpointAccess, c.publicAccessCidrs),
      nodeInstanceTypes: c.nodeInstanceTypes.map((t) => new ec2.InstanceType(t)),
      capacityType: c.capacityType === 'SPOT' ? eks.CapacityType.SPOT : eks.CapacityType.ON_DEMAND,
      minNodes: c.minNodes,
      maxNodes: c.maxNodes,
      desiredNodes: c.desiredNodes,
      nodeDiskGiB: c.nodeDiskGiB,
      maxPodsPerNode: c.maxPodsPerNode,
      nodeSecurityGroups: [props.workloadsSecurityGroup],
      adminPrincipalArns: c.adminPrincipalArns,
      logRetention: c.logRetentionDays,
      removalPolicy: this.config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      containerLogRetention: this.config.observability.logRetentionDays,
      alarmTopic: props.alarmTopic,
      alarmNamespaces: [this.config.workloads.namespace],
    });
    this.cluster = this.platformCluster.cluster;
    const cfnUtils = this.node.tryFindChild('AWSCDKCfnUtilsProviderCustomResourceProvider');
    if (cfnUtils) {
      acknowledge(cfnUtils, { id: controlTower('lambda_inside_vpc_check'), reason: "CDK's deploy-time helper that serializes the cluster's JSON values calls no network service at all; a VPC attachment would add ENIs and nothing else." });
    }
    this.clusterSecurityGroup = this.platformCluster.clusterSecurityGroup;
  }
}

function endpointAccess(mode: EndpointAccessMode, cidrs: string[]): eks.EndpointAccess {
  switch (mode) {
    case 'private': return eks.EndpointAccess.PRIVATE;
    case 'public-and-private': return eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...cidrs);
  }
}
