import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeShortRetention, controlTower } from '../compliance';
import { EncryptionKey } from '../constructs/encryption-key';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/**
 * The VPC every other stack lives in: public subnets (NAT; the internet gateway CloudFront VPC
 * origins need), private subnets with egress (EKS nodes, OpenSearch, the internal ALB), isolated
 * subnets (RDS, ElastiCache); flow logs; S3 gateway endpoint and interface endpoints from config.
 * With `network.existingVpc` it imports the team's VPC instead.
 */
export class NetworkStack extends PlatformStack {
  readonly vpc: ec2.IVpc;
  /** Flow log of a VPC this stack created (undefined for an existing VPC: its owner logs it). */
  readonly flowLog?: ec2.FlowLog;
  readonly flowLogGroup?: logs.LogGroup;
  /** Key of the flow log group (undefined for an existing VPC). */
  readonly logsKey?: EncryptionKey;
  readonly interfaceEndpoints: ec2.InterfaceVpcEndpoint[] = [];
  /**
   * The one group whose members may reach the data stores. It lives here, upstream of both the data
   * and the cluster stack, so the EKS nodes can carry it without the two stacks depending on each other.
   */
  readonly workloadsSecurityGroup: ec2.SecurityGroup;
  /** Security group of the interface endpoints (when any are configured). */
  readonly endpointSecurityGroup?: ec2.SecurityGroup;
  /** NAT instances (network.natInstanceType) in place of NAT gateways; undefined with gateways. */
  readonly natInstances?: ec2.NatInstanceProviderV2;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const net = this.config.network;

    if (net.existingVpc) {
      const e = net.existingVpc;
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: e.vpcId,
        vpcCidrBlock: e.vpcCidr,
        availabilityZones: this.availabilityZones,
        publicSubnetIds: e.publicSubnetIds,
        privateSubnetIds: e.privateSubnetIds,
        isolatedSubnetIds: e.isolatedSubnetIds,
      });
    } else {
      const removalPolicy = this.config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
      this.logsKey = new EncryptionKey(this, 'LogsKey', { description: 'Encrypts the VPC flow logs', cloudWatchLogs: true, removalPolicy });
      this.flowLogGroup = this.logsKey.logGroup(this, 'FlowLogs', {
        retention: net.flowLogRetentionDays as logs.RetentionDays,
        removalPolicy,
      });
      acknowledgeShortRetention(this.flowLogGroup, net.flowLogRetentionDays);
      // Subnet sizes follow the VPC prefix: private (pods use VPC IPs) gets the most room.
      const prefix = Number(net.vpcCidr.split('/')[1]);
      this.natInstances = net.natInstanceType ? ec2.NatProvider.instanceV2({
        instanceType: new ec2.InstanceType(net.natInstanceType),
        // Public subnets do not map public addresses on launch: the instance asks for its own.
        associatePublicIpAddress: true,
        // Inbound from the VPC only (added below); CDK's default would admit all of IPv4.
        defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
        // Standard credits: a busy month cannot run up surplus-credit charges.
        creditSpecification: ec2.CpuCredits.STANDARD,
      }) : undefined;
      const vpc = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(net.vpcCidr),
        maxAzs: net.maxAzs,
        natGateways: net.natGateways,
        natGatewayProvider: this.natInstances,
        restrictDefaultSecurityGroup: true,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: prefix + 6, mapPublicIpOnLaunch: false },
          { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: prefix + 3 },
          { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: prefix + 8 },
        ],
        gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      });
      this.flowLog = vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
      this.vpc = vpc;
      if (this.natInstances) this.hardenNatInstances(this.natInstances, net.vpcCidr);
      acknowledge(vpc, { id: 'CloudFormation-Validate::W3010', reason: 'Zones are named from config on purpose: synth must work offline, without an AZ lookup in the target account (network.availabilityZones overrides the names).' });
      const restrictDefaultSg = this.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
      if (restrictDefaultSg) {
        acknowledge(restrictDefaultSg, { id: controlTower('lambda_inside_vpc_check'), reason: "CDK's deploy-time handler that strips the default security group's rules runs once per deploy and only calls the EC2 API; it cannot run inside the VPC it is configuring, whose routes may not exist yet." });
      }
    }

    this.workloadsSecurityGroup = new ec2.SecurityGroup(this, 'Workloads', {
      vpc: this.vpc,
      description: 'Workloads allowed to reach the data stores (attached to the EKS nodes)',
      allowAllOutbound: true,
    });

    if (net.interfaceEndpoints.length > 0) {
      // One group for all endpoints, HTTPS from the VPC's CIDR written as a literal (reviewable).
      this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Interface VPC endpoints: HTTPS from inside the VPC',
        allowAllOutbound: false,
      });
      this.endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(net.existingVpc?.vpcCidr ?? net.vpcCidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
    }
    for (const name of net.interfaceEndpoints) {
      const service = (ec2.InterfaceVpcEndpointAwsService as unknown as Record<string, ec2.InterfaceVpcEndpointAwsService>)[name];
      this.interfaceEndpoints.push(this.vpc.addInterfaceEndpoint(`Endpoint${name}`, {
        service,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        privateDnsEnabled: true,
        open: false,
        securityGroups: [this.endpointSecurityGroup!],
      }));
    }
  }

  /**
   * What CDK's NAT instances lack for the rule packs: an encrypted gp3 root volume, detailed
   * monitoring, IMDSv2 only, and inbound traffic from the VPC alone.
   */
  private hardenNatInstances(nat: ec2.NatInstanceProviderV2, vpcCidr: string): void {
    nat.securityGroup.addIngressRule(ec2.Peer.ipv4(vpcCidr), ec2.Port.allTraffic(), 'Outbound traffic of the private subnets, to translate');
    for (const instance of nat.gatewayInstances) {
      const cfn = instance.instance;
      cfn.monitoring = true;
      cfn.blockDeviceMappings = [{ deviceName: '/dev/xvda', ebs: { encrypted: true, volumeType: 'gp3', volumeSize: 8, deleteOnTermination: true } }];
      // IMDSv2 only, through a launch template (the instance resource has no metadata options); the
      // template carries detailed monitoring too, as Control Tower wants of every launch template.
      const template = new ec2.CfnLaunchTemplate(instance, 'LaunchTemplate', {
        launchTemplateData: { metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1 }, monitoring: { enabled: true } },
      });
      cfn.launchTemplate = { launchTemplateId: template.ref, version: template.attrLatestVersionNumber };
      acknowledge(instance,
        { id: controlTower('ec2_instance_no_public_ip_check'), reason: 'A NAT instance is the egress of the private subnets (a NAT gateway in staging and prod): it needs a public address to translate to. Its security group admits traffic from the VPC only.' },
        { id: controlTower('ec2_instance_nitro_encryption_in_transit_check'), reason: 'Encryption between Nitro instances covers instance-to-instance paths inside AWS; a NAT instance forwards traffic to the internet, which the workloads encrypt themselves (TLS to AWS APIs and registries). The cheapest qualifying type (c7g.medium) costs eight times a t4g.nano; dev only (validation refuses NAT instances where retainData is true).' },
        { id: 'AwsSolutions-EC29', reason: 'A disposable environment (retainData false, enforced by validation): termination protection would block deleting the stack, and the instance holds no state.' },
      );
    }
  }
}
