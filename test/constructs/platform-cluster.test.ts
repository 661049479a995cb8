import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { acknowledge, controlTower } from '../../lib/compliance';
import { AlarmTopic, CLUSTER_VERSIONS, PlatformCluster, PlatformClusterProps, TARGET_GROUP_BINDING_TAG_KEY } from '../../lib/constructs';
import { acknowledgementsOf, rulePackFindings, testApp } from '../support/synth';

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** The construct alone in a stack with a VPC of its own; `id` changes every generated logical id below it. */
function build(props: Partial<PlatformClusterProps> = {}, id = 'Platform') {
  const app = testApp();
  const stack = new Stack(app, 'Test', { env: ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    restrictDefaultSecurityGroup: false,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: false },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    ],
  });
  // The app's VPC lives in the network stack and has its own tests; this one is a stand-in.
  acknowledge(vpc, { id: 'AwsSolutions-VPC7', reason: 'test fixture' });
  const alarmTopic = new AlarmTopic(stack, 'AlarmTopic').topic;
  const platform = new PlatformCluster(stack, id, { vpc, clusterName: 'demo', alarmTopic, ...props });
  // The stack owns CDK's JSON helper that the cluster pulls in; ClusterStack acknowledges it the same way.
  const cfnUtils = stack.node.tryFindChild('AWSCDKCfnUtilsProviderCustomResourceProvider');
  if (cfnUtils) acknowledge(cfnUtils, { id: controlTower('lambda_inside_vpc_check'), reason: 'test fixture (see ClusterStack)' });
  return { app, stack, platform, template: () => Template.fromStack(stack) };
}

/** An action that only reads (the IAM access levels List and Read by name). */
const isRead = (action: string) => /^[a-z0-9-]+:(Describe|Get|List)[A-Za-z]*$/.test(action);
const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Statements of the IAM policy attached to the load balancer controller's service account role. */
function controllerStatements(t: Template, platform: PlatformCluster): any[] {
  const sa = platform.cluster.albController!.node.findChild('alb-sa') as eks.ServiceAccount;
  const roleId = Stack.of(platform).getLogicalId(sa.role.node.defaultChild as any);
  const policies = Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]));
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement;
}

describe('PlatformCluster', () => {
  const dflt = build();
  const template = dflt.template();

  test('load balancer controller: every write is conditioned and scoped to tagged target groups; only reads on *', () => {
    const statements = controllerStatements(template, dflt.platform);
    const writes = statements.filter((s) => asList(s.Action).some((a: string) => !isRead(a)));
    // The reference policy's 19 unconditioned writes on * (security group rules, listeners, rules, WAF, Shield) are gone.
    for (const s of writes) {
      expect(s.Condition).toBeDefined();
      expect(asList(s.Resource)).not.toContain('*');
    }
    expect(writes.flatMap((s) => asList(s.Action)).sort()).toEqual(['elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:RegisterTargets']);
    expect(writes[0].Condition).toEqual({ StringEquals: { [`aws:ResourceTag/${TARGET_GROUP_BINDING_TAG_KEY}`]: 'demo' } });
    expect(JSON.stringify(writes[0].Resource)).toContain(`:elasticloadbalancing:${ENV.region}:${ENV.account}:targetgroup/*/*`);
    const onStar = statements.filter((s) => asList(s.Resource).includes('*'));
    expect(onStar.flatMap((s) => asList(s.Action)).every(isRead)).toBe(true);
    expect(dflt.platform.targetGroupBindingTag).toEqual({ key: TARGET_GROUP_BINDING_TAG_KEY, value: 'demo' });
  });

  test('the controller is still installed from its Helm chart with IRSA', () => {
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', { Chart: 'aws-load-balancer-controller', Namespace: 'kube-system' });
  });

  test('private endpoint by default; Kubernetes secrets encrypted; all control-plane logs', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      Name: 'demo',
      ResourcesVpcConfig: { EndpointPrivateAccess: true, EndpointPublicAccess: false },
      EncryptionConfig: [{ Provider: { KeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformSecretsKey'), 'Arn'] } }, Resources: ['secrets'] }],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/eks/demo/cluster' });
    const acks = acknowledgementsOf(build().app).map((a) => a.id);
    expect(acks).not.toContain('cdk-validator-cfnguard::eks_endpoint_no_public_access_check');
  });

  test('core add-ons pinned for the version; the pod identity agent pinned on the cluster-owned add-on', () => {
    const addons = Object.fromEntries(Object.values(template.findResources('AWS::EKS::Addon')).map((a) => [a.Properties.AddonName, a.Properties.AddonVersion]));
    expect(addons).toEqual(CLUSTER_VERSIONS['1.35'].addons);
  });

  test('no unacknowledged rule-pack findings (private endpoint)', () => {
    expect(rulePackFindings(build().app)).toEqual([]);
  });

  test('a public endpoint is acknowledged (read from the template) and still has no findings', () => {
    const pub = build({ endpointAccess: eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom('203.0.113.0/24') });
    pub.template().hasResourceProperties('AWS::EKS::Cluster', { ResourcesVpcConfig: { EndpointPublicAccess: true, PublicAccessCidrs: ['203.0.113.0/24'] } });
    expect(rulePackFindings(build({ endpointAccess: eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom('203.0.113.0/24') }).app)).toEqual([]);
    expect(acknowledgementsOf(pub.app).map((a) => a.id)).toContain('cdk-validator-cfnguard::eks_endpoint_no_public_access_check');
  });

  test('acknowledgement ids follow generated logical ids (another construct id, no findings)', () => {
    expect(rulePackFindings(build({}, 'Eks').app)).toEqual([]);
  });

  test('without the controller: no Helm chart, no controller role', () => {
    const t = build({ albController: false }).template();
    expect(Object.values(t.findResources('Custom::AWSCDK-EKS-HelmChart')).map((c) => c.Properties.Chart)).not.toContain('aws-load-balancer-controller');
    expect(JSON.stringify(t.toJSON())).not.toContain('elasticloadbalancing:RegisterTargets');
  });

  test('node AMI follows the CPU architecture', () => {
    build({ nodeInstanceTypes: [new ec2.InstanceType('m7i.large')] }).template()
      .hasResourceProperties('AWS::EKS::Nodegroup', { AmiType: 'AL2023_x86_64_STANDARD', InstanceTypes: ['m7i.large'] });
    template.hasResourceProperties('AWS::EKS::Nodegroup', { AmiType: 'AL2023_ARM_64_STANDARD', InstanceTypes: ['m7g.large'] });
  });

  test('maxPodsPerNode: prefix delegation in the VPC CNI and the kubelet limit in the nodes\' NodeConfig', () => {
    const t = build({ maxPodsPerNode: 24, nodeInstanceTypes: [new ec2.InstanceType('t4g.small')] }).template();
    const cni = Object.values(t.findResources('AWS::EKS::Addon', { Properties: { AddonName: 'vpc-cni' } }))[0];
    expect(JSON.parse(cni.Properties.ConfigurationValues)).toEqual({ enableNetworkPolicy: 'true', env: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' } });
    const [lt] = Object.values(t.findResources('AWS::EC2::LaunchTemplate'));
    const userData = JSON.stringify(lt.Properties.LaunchTemplateData.UserData);
    expect(userData).toContain('Content-Type: multipart/mixed');
    expect(userData).toContain('Content-Type: application/node.eks.aws');
    expect(userData).toMatch(/kind: NodeConfig\\nspec:\\n  kubelet:\\n    config:\\n      maxPods: 24\\n/);
    // Without it: no user data (EKS's own bootstrap and pod limit) and addresses, not prefixes.
    const [plain] = Object.values(template.findResources('AWS::EC2::LaunchTemplate'));
    expect(plain.Properties.LaunchTemplateData.UserData).toBeUndefined();
    expect(JSON.stringify(template.findResources('AWS::EKS::Addon'))).not.toContain('ENABLE_PREFIX_DELEGATION');
    expect(() => build({ maxPodsPerNode: 4 })).toThrow(/maxPodsPerNode must be an integer from 8 to 250 \(got 4\)/);
  });

  test('clear errors for an unknown Kubernetes version and mixed architectures', () => {
    expect(() => build({ kubernetesVersion: '1.30' })).toThrow(/kubernetesVersion 1\.30 has no kubectl layer and pinned add-ons here; use one of 1\.35/);
    expect(() => build({ nodeInstanceTypes: [new ec2.InstanceType('m7g.large'), new ec2.InstanceType('m7i.large')] }))
      .toThrow(/nodeInstanceTypes must all share one CPU architecture/);
  });
});
