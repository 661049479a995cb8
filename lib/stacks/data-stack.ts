import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { AssetBuckets } from '../constructs/asset-buckets';
import { MysqlDatabase } from '../constructs/mysql-database';
import { RedisCluster } from '../constructs/redis-cluster';
import { SearchDomain } from '../constructs/search-domain';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface DataStackProps extends PlatformStackProps {
  readonly vpc: ec2.IVpc;
  /** The only group the data stores accept connections from (NetworkStack.workloadsSecurityGroup). */
  readonly workloadsSecurityGroup: ec2.ISecurityGroup;
}

/**
 * The platform's data: MySQL, Redis cluster, OpenSearch and the buckets. Every store accepts
 * connections only from `workloadsSecurityGroup`, which the cluster's nodes carry.
 */
export class DataStack extends PlatformStack {
  /** The one security group whose members may reach the data stores (owned by the network stack). */
  readonly workloadsSecurityGroup: ec2.ISecurityGroup;
  readonly mysql: MysqlDatabase;
  readonly redis: RedisCluster;
  readonly search: SearchDomain;
  readonly buckets: AssetBuckets;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { vpc } = props;
    const c = this.config;
    const retain = c.retainData;

    this.workloadsSecurityGroup = props.workloadsSecurityGroup;
    const allowFrom = [this.workloadsSecurityGroup];

    this.mysql = new MysqlDatabase(this, 'Mysql', {
      vpc,
      allowFrom,
      instanceType: new ec2.InstanceType(c.mysql.instanceType),
      multiAz: c.mysql.multiAz,
      allocatedStorageGiB: c.mysql.allocatedStorageGiB,
      maxAllocatedStorageGiB: c.mysql.maxAllocatedStorageGiB,
      backupRetention: Duration.days(c.mysql.backupRetentionDays),
      databaseName: c.mysql.databaseName,
      removalPolicy: retain ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      deletionProtection: retain,
    });

    this.redis = new RedisCluster(this, 'Redis', {
      vpc,
      allowFrom,
      engine: c.redis.engine,
      nodeType: c.redis.nodeType,
      shards: c.redis.shards,
      replicasPerShard: c.redis.replicasPerShard,
      snapshotRetentionDays: c.redis.snapshotRetentionDays,
      removalPolicy: retain ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    });

    this.search = new SearchDomain(this, 'Search', {
      vpc,
      allowFrom,
      dataNodeType: c.search.dataNodeType,
      dataNodes: c.search.dataNodes,
      zoneCount: c.search.zoneCount,
      masterNodeType: c.search.masterNodeType,
      masterNodes: c.search.masterNodes,
      volumeSizeGiB: c.search.volumeSizeGiB,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.buckets = new AssetBuckets(this, 'Buckets', {
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      noncurrentVersionExpiration: Duration.days(c.buckets.noncurrentVersionExpirationDays),
      accessLogRetention: Duration.days(c.buckets.accessLogRetentionDays),
      uploadCorsOrigins: c.buckets.uploadCorsOrigins,
    });
  }
}
