import { Match, Template } from 'aws-cdk-lib/assertions';
import { ENVIRONMENTS } from '../lib/config';
import { build, ENVS, resourcesOf } from './support/platform';

describe.each(ENVS)('NetworkStack (%s)', (env) => {
  const { platform, config } = build(env);
  const template = Template.fromStack(platform.network);

  test('snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('VPC from config with public, private-with-egress and isolated subnets in each AZ', () => {
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: config.network.vpcCidr });
    template.resourceCountIs('AWS::EC2::Subnet', 3 * config.network.maxAzs);
    template.resourceCountIs('AWS::EC2::NatGateway', config.network.natInstanceType ? 0 : config.network.natGateways);
    template.resourceCountIs('AWS::EC2::Instance', config.network.natInstanceType ? config.network.natGateways : 0);
    const zones = new Set(resourcesOf(template, 'AWS::EC2::Subnet').map(([, r]) => r.Properties.AvailabilityZone));
    expect(zones.size).toBe(config.network.maxAzs);
    for (const [, subnet] of resourcesOf(template, 'AWS::EC2::Subnet')) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    }
  });

  test('NAT instances (network.natInstanceType): the private subnets\' default route, encrypted, monitored, IMDSv2 only, inbound from the VPC only', () => {
    if (!config.network.natInstanceType) return expect(resourcesOf(template, 'AWS::EC2::Instance')).toEqual([]);
    const [[id, nat]] = resourcesOf(template, 'AWS::EC2::Instance');
    expect(nat.Properties).toMatchObject({
      InstanceType: config.network.natInstanceType,
      SourceDestCheck: false,
      Monitoring: true,
      CreditSpecification: { CPUCredits: 'standard' },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeType: 'gp3', VolumeSize: 8 } }],
      NetworkInterfaces: [expect.objectContaining({ AssociatePublicIpAddress: true })],
    });
    const [ltId, lt] = resourcesOf(template, 'AWS::EC2::LaunchTemplate').find(([lid]) => lid === nat.Properties.LaunchTemplate.LaunchTemplateId.Ref)!;
    expect(ltId).toMatch(/NatInstance/);
    expect(lt.Properties.LaunchTemplateData).toEqual({ MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 }, Monitoring: { Enabled: true } });
    // Every private subnet routes 0.0.0.0/0 to the instance; nothing routes to a NAT gateway.
    const routes = resourcesOf(template, 'AWS::EC2::Route').map(([, r]) => r.Properties).filter((r) => r.InstanceId);
    expect(routes).toHaveLength(config.network.maxAzs);
    for (const r of routes) expect(r).toMatchObject({ DestinationCidrBlock: '0.0.0.0/0', InstanceId: { Ref: id } });
    const groupId = nat.Properties.NetworkInterfaces[0].GroupSet[0]['Fn::GetAtt'][0];
    const group = template.toJSON().Resources[groupId].Properties;
    expect(group.SecurityGroupIngress).toEqual([expect.objectContaining({ CidrIp: config.network.vpcCidr, IpProtocol: '-1' })]);
  });

  test('flow logs of all traffic into a KMS-encrypted log group', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', ResourceType: 'VPC' });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: config.network.flowLogRetentionDays,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogsKey'), 'Arn'] },
    });
  });

  test('S3 gateway endpoint and the configured interface endpoints, HTTPS from the VPC only', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    const interfaces = resourcesOf(template, 'AWS::EC2::VPCEndpoint').filter(([, r]) => r.Properties.VpcEndpointType === 'Interface');
    expect(interfaces).toHaveLength(config.network.interfaceEndpoints.length);
    if (interfaces.length > 0) {
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        SecurityGroupIngress: [{ CidrIp: config.network.vpcCidr, FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }],
      });
    }
  });

  test('tags every resource with environment and application', () => {
    const vpc = resourcesOf(template, 'AWS::EC2::VPC')[0][1];
    expect(vpc.Properties.Tags).toEqual(expect.arrayContaining([
      { Key: 'environment', Value: env },
      { Key: 'application', Value: config.appName },
    ]));
  });
});

describe('NetworkStack with an existing VPC', () => {
  const dev = ENVIRONMENTS.dev;
  const { platform } = build('dev', {
    network: {
      ...dev.network,
      interfaceEndpoints: ['STS'],
      existingVpc: {
        vpcId: 'vpc-0123456789abcdef0',
        vpcCidr: '10.50.0.0/16',
        publicSubnetIds: ['subnet-00000000000000001', 'subnet-00000000000000002'],
        privateSubnetIds: ['subnet-00000000000000003', 'subnet-00000000000000004'],
        isolatedSubnetIds: ['subnet-00000000000000005', 'subnet-00000000000000006'],
      },
    },
  });
  const template = Template.fromStack(platform.network);

  test('creates no VPC and puts endpoints into the given private subnets', () => {
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 0);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcId: 'vpc-0123456789abcdef0',
      SubnetIds: ['subnet-00000000000000003', 'subnet-00000000000000004'],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.50.0.0/16' })] });
  });

  test('data stores land in the existing isolated subnets', () => {
    const data = Template.fromStack(platform.data);
    data.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: ['subnet-00000000000000005', 'subnet-00000000000000006'] });
  });
});
