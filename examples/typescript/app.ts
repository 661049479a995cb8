import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { RedisCluster } from 'eks-microservices-platform';

const app = new App();
const stack = new Stack(app, 'Cache', { env: { region: 'eu-west-1' } });
// Usually your existing VPC (ec2.Vpc.fromLookup); the data stores go to its isolated subnets by default.
const vpc = new ec2.Vpc(stack, 'Vpc', {
  maxAzs: 2,
  subnetConfiguration: [
    { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
    { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
  ],
});
const apps = new ec2.SecurityGroup(stack, 'Apps', { vpc });

const redis = new RedisCluster(stack, 'Sessions', { vpc, allowFrom: [apps], shards: 2, replicasPerShard: 1 });
// Every resource is a public field: redis.replicationGroup, redis.userSecret, redis.securityGroup, ...
redis.allowFrom(new ec2.SecurityGroup(stack, 'Jobs', { vpc }));
app.synth();
