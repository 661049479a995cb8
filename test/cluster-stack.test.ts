import { Match, Template } from 'aws-cdk-lib/assertions';
import { ENVIRONMENTS } from '../lib/config';
import { CLUSTER_VERSIONS } from '../lib/constructs/platform-cluster';
import { build, ENVS, resourcesOf } from './support/platform';

describe.each(ENVS)('ClusterStack (%s)', (env) => {
  const { platform, config } = build(env);
  const template = Template.fromStack(platform.cluster);
  const c = config.cluster;

  test('snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('Kubernetes version from config with its kubectl layer, API-only access entries', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      Version: c.kubernetesVersion,
      Name: `${config.appName}-${env}`,
      AccessConfig: Match.objectLike({ AuthenticationMode: 'API', BootstrapClusterCreatorAdminPermissions: false }),
      BootstrapSelfManagedAddons: false,
    });
    template.resourceCountIs('AWS::Lambda::LayerVersion', 2); // kubectl + awscli
  });

  // cdk-nag's EKS rules do not fire on aws-eks-v2, so these are asserted here.
  test('Kubernetes secrets are encrypted with a customer managed key', () => {
    const [, cluster] = resourcesOf(template, 'AWS::EKS::Cluster')[0];
    expect(cluster.Properties.EncryptionConfig).toEqual([{ Provider: { KeyArn: { 'Fn::GetAtt': [expect.stringMatching(/^PlatformSecretsKey/), 'Arn'] } }, Resources: ['secrets'] }]);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('Kubernetes secrets') });
  });

  test('every control-plane log type is on, into an encrypted log group created first', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      Logging: { ClusterLogging: { EnabledTypes: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].map((type) => ({ Type: type })) } },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/aws/eks/${config.appName}-${env}/cluster`,
      RetentionInDays: c.logRetentionDays,
      KmsKeyId: Match.anyValue(),
    });
    for (const [, group] of resourcesOf(template, 'AWS::Logs::LogGroup')) expect(group.Properties.KmsKeyId).toBeDefined();
  });

  test('endpoint access from config: private in prod, CIDR-limited public in dev', () => {
    const [, cluster] = resourcesOf(template, 'AWS::EKS::Cluster')[0];
    const vpcConfig = cluster.Properties.ResourcesVpcConfig;
    expect(vpcConfig.EndpointPrivateAccess).toBe(true);
    if (c.endpointAccess === 'private') {
      expect(vpcConfig.EndpointPublicAccess).toBe(false);
    } else {
      expect(vpcConfig.EndpointPublicAccess).toBe(true);
      expect(vpcConfig.PublicAccessCidrs).toEqual(c.publicAccessCidrs);
    }
  });

  test('managed AL2023 node group sized from config, IMDSv2 with hop limit 1, encrypted disks, workloads group', () => {
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      AmiType: c.nodeInstanceTypes[0].match(/^[a-z]+\d+g/) ? 'AL2023_ARM_64_STANDARD' : 'AL2023_x86_64_STANDARD',
      InstanceTypes: c.nodeInstanceTypes,
      CapacityType: c.capacityType,
      ScalingConfig: { MinSize: c.minNodes, MaxSize: c.maxNodes, DesiredSize: c.desiredNodes },
    });
    const [, lt] = resourcesOf(template, 'AWS::EC2::LaunchTemplate')[0];
    const data = lt.Properties.LaunchTemplateData;
    expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect(data.BlockDeviceMappings[0].Ebs).toMatchObject({ Encrypted: true, VolumeSize: c.nodeDiskGiB, VolumeType: 'gp3' });
    expect(JSON.stringify(data.SecurityGroupIds)).toContain('Workloads');
    expect(JSON.stringify(data.SecurityGroupIds)).toContain('ClusterSecurityGroupId');
  });

  test('core add-ons pinned to the versions known for this Kubernetes version', () => {
    const pinned = CLUSTER_VERSIONS[c.kubernetesVersion].addons;
    const addons = Object.fromEntries(resourcesOf(template, 'AWS::EKS::Addon').map(([, a]) => [a.Properties.AddonName, a.Properties.AddonVersion]));
    expect(addons).toEqual(pinned);
  });

  test('AWS Load Balancer Controller is installed from its Helm chart', () => {
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', { Chart: 'aws-load-balancer-controller', Namespace: 'kube-system' });
  });

  test('data and cluster stacks do not depend on each other (they deploy side by side)', () => {
    expect(platform.cluster.dependencies).not.toContain(platform.data);
    expect(platform.data.dependencies).not.toContain(platform.cluster);
    expect(platform.cluster.dependencies).toContain(platform.network);
  });
});

describe('ClusterStack admin access entries', () => {
  const arn = 'arn:aws:iam::123456789012:role/platform-admins';
  const { platform, config } = build('dev', { cluster: { ...ENVIRONMENTS.dev.cluster, adminPrincipalArns: [arn] } });
  const template = Template.fromStack(platform.cluster);

  test('each admin ARN gets an access entry with the cluster-admin policy', () => {
    expect(config.cluster.adminPrincipalArns).toEqual([arn]);
    const entry = resourcesOf(template, 'AWS::EKS::AccessEntry').find(([, e]) => e.Properties.PrincipalArn === arn);
    expect(entry).toBeDefined();
    expect(entry![1].Properties.AccessPolicies).toHaveLength(1);
    expect(entry![1].Properties.AccessPolicies[0].AccessScope).toEqual({ Type: 'cluster' });
    expect(JSON.stringify(entry![1].Properties.AccessPolicies[0].PolicyArn)).toContain('policy/AmazonEKSClusterAdminPolicy');
  });
});
