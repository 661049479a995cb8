/**
 * The comparable @aws-quickstart/eks-blueprints app for bench/synth.js: a VPC, an EKS cluster with a
 * managed node group, and the add-ons this project's cluster stack has (VPC CNI, CoreDNS,
 * kube-proxy, EBS CSI, Pod Identity agent, AWS Load Balancer Controller), every version pinned so
 * synth stays offline. Written as the blueprints quickstart does (ts-node through cdk.json).
 */
import * as cdk from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as blueprints from '@aws-quickstart/eks-blueprints';

const app = new cdk.App();
const version = eks.KubernetesVersion.of('1.33');

blueprints.EksBlueprint.builder()
  .account('111111111111')
  .region('eu-west-1')
  .version(version)
  .clusterProvider(new blueprints.MngClusterProvider({
    version,
    instanceTypes: [new ec2.InstanceType('m7g.large')],
    amiType: eks.NodegroupAmiType.AL2023_ARM_64_STANDARD,
    minSize: 2, desiredSize: 3, maxSize: 6,
  }))
  .addOns(
    new blueprints.addons.VpcCniAddOn({ version: 'v1.20.4-eksbuild.2' }),
    new blueprints.addons.CoreDnsAddOn('v1.12.2-eksbuild.4'),
    new blueprints.addons.KubeProxyAddOn('v1.33.3-eksbuild.4'),
    new blueprints.addons.EbsCsiDriverAddOn({ version: 'v1.48.0-eksbuild.1' }),
    new blueprints.addons.EksPodIdentityAgentAddOn('v1.3.8-eksbuild.2'),
    new blueprints.addons.AwsLoadBalancerControllerAddOn({ version: '1.13.4' }),
  )
  .build(app, 'blueprints-bench');
