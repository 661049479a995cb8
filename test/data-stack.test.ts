import { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ENVIRONMENTS } from '../lib/config';
import { build, ENVS, resourcesOf } from './support/platform';
import { rulePackFindings } from './support/synth';

describe('DataStack backup copy to a second region', () => {
  const { platform, config } = build('prod', { backup: { ...ENVIRONMENTS.prod.backup!, copyRegion: 'eu-central-1', copyRetentionDays: 120 } });
  const copy = platform.backupCopy!;

  test('a locked, encrypted vault in the copy region, retained with prod data', () => {
    expect(copy.region).toBe('eu-central-1');
    const t = Template.fromStack(copy);
    const [, vault] = resourcesOf(t, 'AWS::Backup::BackupVault')[0];
    expect(vault.Properties).toMatchObject({ BackupVaultName: 'platform-prod-copy', LockConfiguration: { MinRetentionDays: 120, ChangeableForDays: 3 } });
    expect(vault.Properties.EncryptionKeyArn).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    expect(vault.DeletionPolicy).toBe('Retain');
  });

  test('the plan copies every recovery point there, by name, after that stack is deployed', () => {
    const [, plan] = resourcesOf(Template.fromStack(platform.data), 'AWS::Backup::BackupPlan')[0];
    expect(plan.Properties.BackupPlan.BackupPlanRule[0].CopyActions).toEqual([{
      DestinationBackupVaultArn: { 'Fn::Join': ['', ['arn:aws:backup:eu-central-1:', { Ref: 'AWS::AccountId' }, ':backup-vault:platform-prod-copy']] },
      Lifecycle: { DeleteAfterDays: 120 },
    }]);
    expect(platform.data.dependencies).toContain(copy);
    expect(config.backup!.copyRegion).toBe('eu-central-1');
  });

  test('no unacknowledged rule-pack findings', () => {
    const again = build('prod', { backup: { ...ENVIRONMENTS.prod.backup!, copyRegion: 'eu-central-1' } });
    expect(rulePackFindings(again.app)).toEqual([]);
  });
});

describe.each(ENVS)('DataStack (%s)', (env) => {
  const { platform, config } = build(env);
  const template = Template.fromStack(platform.data);
  const json = JSON.stringify(template.toJSON());
  const retain = config.retainData;
  const prod = env === 'prod';
  const workloads = platform.network.getLogicalId(platform.network.workloadsSecurityGroup.node.defaultChild as CfnElement);

  test('snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('Redis replication group: cluster mode, shards x replicas, failover, Multi-AZ, TLS, KMS, RBAC', () => {
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      ClusterMode: 'enabled',
      NumNodeGroups: config.redis.shards,
      ReplicasPerNodeGroup: config.redis.replicasPerShard,
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AtRestEncryptionEnabled: true,
      KmsKeyId: Match.anyValue(),
      UserGroupIds: [Match.anyValue()],
      SnapshotRetentionLimit: config.redis.snapshotRetentionDays,
      CacheParameterGroupName: 'default.redis7.cluster.on',
    });
    template.hasResourceProperties('AWS::ElastiCache::User', { UserName: 'default', AccessString: 'off -@all' });
    const [, group] = resourcesOf(template, 'AWS::ElastiCache::ReplicationGroup')[0];
    expect(group.Properties.AuthToken).toBeUndefined();
    expect(group.DeletionPolicy).toBe(retain ? 'Snapshot' : 'Delete');
  });

  test('MySQL 8.4: encrypted, RDS-managed secret, Multi-AZ and deletion protection by environment', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'mysql',
      EngineVersion: Match.stringLikeRegexp('^8\\.4\\.'),
      StorageEncrypted: true,
      ManageMasterUserPassword: true,
      MultiAZ: config.mysql.multiAz,
      DeletionProtection: retain,
      EnableIAMDatabaseAuthentication: true,
      BackupRetentionPeriod: config.mysql.backupRetentionDays,
      EnableCloudwatchLogsExports: ['audit', 'error', 'general', 'slowquery'],
      PubliclyAccessible: false,
    });
    const [, db] = resourcesOf(template, 'AWS::RDS::DBInstance')[0];
    expect(db.Properties.MasterUserPassword).toBeUndefined();
    expect(db.DeletionPolicy).toBe(retain ? 'Snapshot' : 'Delete');
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Parameters: Match.objectLike({ character_set_server: 'utf8mb4', require_secure_transport: '1' }),
    });
  });

  test('OpenSearch in the VPC with encryption at rest, node-to-node, HTTPS TLS 1.2+, FGAC and logs', () => {
    template.hasResourceProperties('AWS::OpenSearchService::Domain', {
      VPCOptions: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
      EncryptionAtRestOptions: { Enabled: true, KmsKeyId: Match.anyValue() },
      NodeToNodeEncryptionOptions: { Enabled: true },
      DomainEndpointOptions: { EnforceHTTPS: true, TLSSecurityPolicy: 'Policy-Min-TLS-1-2-PFS-2023-10' },
      AdvancedSecurityOptions: Match.objectLike({ Enabled: true, InternalUserDatabaseEnabled: true }),
      ClusterConfig: Match.objectLike({ InstanceCount: config.search.dataNodes, ZoneAwarenessEnabled: config.search.zoneCount > 1 }),
      LogPublishingOptions: Match.objectLike({ AUDIT_LOGS: Match.objectLike({ Enabled: true }) }),
    });
    const [, domain] = resourcesOf(template, 'AWS::OpenSearchService::Domain')[0];
    expect(domain.Properties.VPCOptions.SubnetIds).toHaveLength(config.search.zoneCount);
    expect(domain.DeletionPolicy).toBe(retain ? 'Retain' : 'Delete');
  });

  test('buckets: public access blocked, encrypted, TLS enforced, versioned, retained in prod', () => {
    const buckets = resourcesOf(template, 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(3);
    for (const [id, bucket] of buckets) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm)
        .toBe(id.includes('AccessLogs') ? 'AES256' : 'aws:kms');
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties.LifecycleConfiguration.Rules.length).toBeGreaterThan(0);
      expect(bucket.DeletionPolicy).toBe(retain ? 'Retain' : 'Delete');
    }
    const policies = resourcesOf(template, 'AWS::S3::BucketPolicy');
    expect(policies).toHaveLength(3);
    for (const [, policy] of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]));
    }
    template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedOrigins: config.buckets.uploadCorsOrigins, AllowedMethods: Match.arrayWith(['PUT']) })] },
    });
  });

  test('data stores are reachable only from the workloads security group', () => {
    const rules = resourcesOf(template, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    const inline = resourcesOf(template, 'AWS::EC2::SecurityGroup').flatMap(([, r]) => r.Properties.SecurityGroupIngress ?? []);
    expect(inline).toEqual([]);
    expect(rules.map((r) => r.FromPort).sort((a, b) => a - b)).toEqual([443, 13306, 16379]);
    for (const rule of rules) {
      expect(JSON.stringify(rule.SourceSecurityGroupId)).toContain(`${workloads}GroupId`);
      expect(rule.CidrIp).toBeUndefined();
    }
    // The stores' own groups open no egress (CDK writes a disallow-all placeholder rule).
    for (const [id, sg] of resourcesOf(template, 'AWS::EC2::SecurityGroup')) {
      expect([id, sg.Properties.SecurityGroupEgress]).toEqual([id, [expect.objectContaining({ CidrIp: '255.255.255.255/32' })]]);
    }
  });

  test('no secret value in the template: only Secrets Manager references', () => {
    expect(json).not.toMatch(/"(MasterUserPassword|AuthToken|Password)"\s*:\s*"/);
    for (const [, user] of resourcesOf(template, 'AWS::ElastiCache::User')) {
      expect(JSON.stringify(user.Properties.Passwords)).toContain('resolve:secretsmanager');
    }
  });

  test('every secret is encrypted with a customer managed key of the platform', () => {
    const secrets = resourcesOf(template, 'AWS::SecretsManager::Secret');
    expect(secrets.length).toBeGreaterThanOrEqual(2); // Redis user, OpenSearch master user
    for (const [id, secret] of secrets) {
      expect([id, secret.Properties.KmsKeyId]).toEqual([id, { 'Fn::GetAtt': [expect.any(String), 'Arn'] }]);
      expect(template.toJSON().Resources[secret.Properties.KmsKeyId['Fn::GetAtt'][0]].Type).toBe('AWS::KMS::Key');
    }
    // RDS keeps its master secret on the database key too.
    template.hasResourceProperties('AWS::RDS::DBInstance', { MasterUserSecret: { KmsKeyId: Match.anyValue() } });
  });

  test(config.backup ? 'AWS Backup: daily plan for MySQL and the uploads bucket into a vault on a customer managed key' : 'no AWS Backup plan in dev', () => {
    const b = config.backup;
    if (!b) {
      expect(json).not.toContain('AWS::Backup::');
      expect(platform.data.backup).toBeUndefined();
      return;
    }
    const d = platform.data;
    const id = (c: any) => d.getLogicalId(c.node.defaultChild);
    const [, vault] = resourcesOf(template, 'AWS::Backup::BackupVault')[0];
    expect(vault.Properties.EncryptionKeyArn).toEqual({ 'Fn::GetAtt': [id(d.backup!.vault.encryptionKey), 'Arn'] });
    expect(vault.Properties.AccessPolicy.Statement).toEqual([expect.objectContaining({ Effect: 'Deny', Action: ['backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle'] })]);
    // Prod keeps the vault and its key on stack delete; the locked vault cannot lose recovery points early.
    expect(vault.DeletionPolicy).toBe(retain ? 'Retain' : 'Delete');
    expect(template.toJSON().Resources[id(d.backup!.vault.encryptionKey)].DeletionPolicy).toBe(retain ? 'Retain' : 'Delete');
    const lock = { none: undefined, governance: { MinRetentionDays: b.retentionDays }, compliance: { MinRetentionDays: b.retentionDays, ChangeableForDays: 3 } }[b.vaultLock];
    expect(vault.Properties.LockConfiguration).toEqual(lock);
    if (prod) expect(vault.Properties.LockConfiguration).toBeDefined();
    const [, plan] = resourcesOf(template, 'AWS::Backup::BackupPlan')[0];
    expect(plan.Properties.BackupPlan.BackupPlanRule).toEqual([expect.objectContaining({
      ScheduleExpression: 'cron(0 3 * * ? *)',
      Lifecycle: { DeleteAfterDays: b.retentionDays },
      TargetBackupVault: { 'Fn::GetAtt': [id(d.backup!.vault.vault), 'BackupVaultName'] },
    })]);
    expect(plan.Properties.BackupPlan.BackupPlanRule[0].CopyActions).toBeUndefined();
    const [, selection] = resourcesOf(template, 'AWS::Backup::BackupSelection')[0];
    expect(JSON.stringify(selection.Properties.BackupSelection.Resources)).toContain(`"Ref":"${id(d.mysql.instance)}"`);
    expect(selection.Properties.BackupSelection.Resources).toContainEqual({ 'Fn::GetAtt': [id(d.buckets.uploads), 'Arn'] });
    expect(JSON.stringify(template.toJSON().Resources[id(d.backup!.role)].Properties.ManagedPolicyArns)).toContain('AWSBackupServiceRolePolicyForS3Backup');
  });

  test('every log group is encrypted with a customer managed key', () => {
    for (const [, group] of resourcesOf(template, 'AWS::Logs::LogGroup')) {
      expect(group.Properties.KmsKeyId).toBeDefined();
      expect(group.DeletionPolicy).toBe(retain ? 'Retain' : 'Delete');
      if (prod) expect(group.Properties.RetentionInDays).toBeGreaterThanOrEqual(365);
    }
  });
});
