import * as path from 'node:path';
import { CfnOutput, Duration } from 'aws-cdk-lib';
import { App as Cdk8sApp } from 'cdk8s';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { buildWorkloadCharts, chartEntries, WorkloadCharts } from '../../k8s/app';
import { USES } from '../../k8s/env';
import { acknowledge } from '../compliance';
import { SMOKE_GATE_MARGIN_SECONDS } from '../config';
import { EncryptionKey } from '../constructs/encryption-key';
import { PlatformCluster } from '../constructs/platform-cluster';
import { ENDPOINT_OUTPUTS, WorkloadEndpoints, workloadSettings } from '../workloads/settings';
import { DataStack } from './data-stack';
import { EdgeStack } from './edge-stack';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface WorkloadsStackProps extends PlatformStackProps {
  readonly platformCluster: PlatformCluster;
  readonly data: DataStack;
  readonly edge: EdgeStack;
}

/** Workloads that call AWS with their own identity: one role each, bound to the chart's ServiceAccount. */
const IDENTITIES: Record<string, keyof typeof USES> = {
  gateway: 'gateway',
  user: 'user',
  catalog: 'catalog',
  order: 'order',
  'order-timeout': 'order-timeout',
  'search-sync': 'search-sync',
  'search-sync-follow': 'search-sync',
  smoke: 'smoke',
  loadgen: 'loadgen',
};

/** Prefix of the uploads bucket the catalog's presigned image PUTs write under. */
const UPLOADS_PREFIX = 'products';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * The platform's own workloads on the cluster: the services image, one IAM role per workload bound
 * through EKS Pod Identity (its own secrets, its own bucket prefix, nothing else), and one
 * KubernetesManifest per cdk8s chart, in this stack (not cluster.addCdk8sChart, which would put
 * them in the cluster stack and make a cycle with the edge stack's target group).
 */
export class WorkloadsStack extends PlatformStack {
  readonly charts: WorkloadCharts;
  /** The services image (a DockerImageAsset unless workloads.image names one). */
  readonly image: string;
  readonly imageAsset?: ecrAssets.DockerImageAsset;
  /** ES256 signing key of the user service: a placeholder the user service replaces with a generated PKCS#8 PEM on first start. */
  readonly jwtSigningKey: secretsmanager.Secret;
  readonly roles: Record<string, iam.Role> = {};
  readonly podIdentities: eks.CfnPodIdentityAssociation[] = [];
  /** Manifests by chart name, in apply order. */
  readonly manifests: Record<string, eks.KubernetesManifest> = {};
  /** The dedicated account of the smoke journey: `{"email","password"}`, generated. */
  readonly smokeAccount: secretsmanager.Secret;
  /** The bootstrap admin: `{"email","password"}` (email from config, password generated); it grants roles. */
  readonly adminAccount: secretsmanager.Secret;
  /** Waits for the release's smoke Job to succeed (workloads.smoke.gate); undefined when off. */
  readonly smokeGate?: eks.KubernetesObjectValue;

  constructor(scope: Construct, id: string, props: WorkloadsStackProps) {
    super(scope, id, props);
    const c = this.config;
    const cluster = props.platformCluster.cluster;
    const { mysql, redis, search, buckets } = props.data;

    if (c.workloads.image) {
      this.image = `${c.workloads.image.repository}:${c.workloads.image.tag}`;
    } else {
      // Built by `cdk deploy` from the repository root (one lockfile); synth only stages the files.
      const arm = new ec2.InstanceType(c.cluster.nodeInstanceTypes[0]).architecture === ec2.InstanceArchitecture.ARM_64;
      this.imageAsset = new ecrAssets.DockerImageAsset(this, 'ServicesImage', {
        directory: REPO_ROOT,
        file: 'services/Dockerfile',
        platform: arm ? ecrAssets.Platform.LINUX_ARM64 : ecrAssets.Platform.LINUX_AMD64,
      });
      this.image = this.imageAsset.imageUri;
    }

    const secretsKey = new EncryptionKey(this, 'SecretsKey', { description: `Encrypts the workload secrets of ${c.appName}-${c.envName}` });
    this.jwtSigningKey = new secretsmanager.Secret(this, 'JwtSigningKey', {
      description: 'ES256 (P-256) PKCS#8 PEM the user service signs access tokens with; generated and stored by the first user pod',
      encryptionKey: secretsKey,
    });
    acknowledge(this.jwtSigningKey, { id: 'AwsSolutions-SMG4', reason: 'An asymmetric signing key: rotating it means publishing the new public key in the JWKS before signing with it, which Secrets Manager rotation cannot do; it is rotated by hand (README).' });

    this.smokeAccount = new secretsmanager.Secret(this, 'SmokeAccount', {
      description: `The smoke journey's own account in ${c.appName}-${c.envName} (signed up by its first run)`,
      encryptionKey: secretsKey,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ email: `smoke@${c.envName}.${c.appName}.invalid` }),
        generateStringKey: 'password',
        excludePunctuation: true,
        passwordLength: 32,
      },
    });
    acknowledge(this.smokeAccount, { id: 'AwsSolutions-SMG4', reason: 'The password of an application-level account the smoke journey signs in with; the user service holds its hash, which Secrets Manager rotation cannot update. Rotate by deleting the smoke user and the secret value together (README).' });

    this.adminAccount = new secretsmanager.Secret(this, 'AdminAccount', {
      description: `The bootstrap admin of ${c.appName}-${c.envName}: the user service creates (or promotes) it and it grants roles`,
      encryptionKey: secretsKey,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ email: c.workloads.adminEmail }),
        generateStringKey: 'password',
        excludePunctuation: true,
        passwordLength: 32,
      },
    });
    acknowledge(this.adminAccount, { id: 'AwsSolutions-SMG4', reason: 'The password of an application-level account; the user service holds its hash, which Secrets Manager rotation cannot update. The admin changes it through the user service (README).' });

    const searchSecret = search.masterUserSecret;
    if (!searchSecret) throw new Error('WorkloadsStack: the OpenSearch domain has no master user secret to hand to the workloads (SearchDomain with masterUserArn?)');
    const endpoints: WorkloadEndpoints = {
      image: this.image,
      // Concrete at synth: the asset's content hash is its image tag.
      release: this.imageAsset ? this.imageAsset.assetHash : c.workloads.image!.tag,
      targetGroupArn: props.edge.targetGroup.targetGroupArn,
      mysql: { host: mysql.endpoint.hostname, port: String(mysql.port), secretArn: mysql.secretArn },
      redis: { host: redis.configurationEndpoint, port: redis.configurationEndpointPort, secretArn: redis.userSecret.secretArn },
      opensearch: { host: search.endpoint, secretArn: searchSecret.secretArn },
      uploadsBucket: buckets.uploads.bucketName,
      jwtSigningKeySecretArn: this.jwtSigningKey.secretArn,
      smokeSecretArn: this.smokeAccount.secretArn,
      adminSecretArn: this.adminAccount.secretArn,
    };
    const settings = workloadSettings(c, endpoints);
    // The same values for GitOps: `npm run k8s:synth -- --values <cdk deploy --outputs-file>`.
    for (const [key, value] of Object.entries(ENDPOINT_OUTPUTS)) new CfnOutput(this, key, { value: value(endpoints) });

    // Every chart complete before any is serialized (toJson validates the whole cdk8s app).
    const app = new Cdk8sApp();
    this.charts = buildWorkloadCharts(app, settings);

    for (const [workload, service] of Object.entries(IDENTITIES)) {
      if (workload === 'loadgen' && !c.workloads.loadgen.enabled) continue;
      const uses = USES[service];
      const role = new iam.Role(this, `Role-${workload}`, {
        assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com').withSessionTags(),
        description: `Pod Identity of ${settings.namespace}/${workload}`,
      });
      const secrets: string[] = [];
      if (uses.mysql) secrets.push(mysql.secretArn);
      if (uses.redis) secrets.push(redis.userSecret.secretArn);
      if (uses.opensearch) secrets.push(searchSecret.secretArn);
      if (service === 'user') secrets.push(this.jwtSigningKey.secretArn, this.adminAccount.secretArn);
      if (service === 'smoke' || service === 'loadgen') secrets.push(this.smokeAccount.secretArn);
      role.addToPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secrets }));
      if (service === 'user') {
        // The first user pod stores the generated signing key (once: an idempotency token).
        role.addToPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:PutSecretValue'], resources: [this.jwtSigningKey.secretArn] }));
        role.addToPolicy(new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey'],
          resources: [secretsKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } },
        }));
      }
      // The secrets' keys, only through Secrets Manager.
      const keys = [uses.mysql && mysql.encryptionKey.keyArn, uses.redis && redis.encryptionKey.keyArn, uses.opensearch && search.encryptionKey.keyArn, ['user', 'smoke', 'loadgen'].includes(service) && secretsKey.keyArn]
        .filter((k): k is string => typeof k === 'string');
      role.addToPolicy(new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: keys,
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } },
      }));
      if (uses.uploads) {
        // Catalog presigns image PUTs and checks them (HeadObject) under its own prefix: nothing else.
        // An export with a fixed name, so the one wildcard below can be acknowledged by its exact id.
        const exportName = `${props.data.stackName}-UploadsBucketArn`;
        const bucketArn = props.data.exportValue(buckets.uploads.bucketArn, { name: exportName });
        role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [`${bucketArn}/${UPLOADS_PREFIX}/*`] }));
        role.addToPolicy(new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [buckets.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${this.region}.amazonaws.com` } },
        }));
        acknowledge(role, { id: `AwsSolutions-IAM5[Resource::${exportName}/${UPLOADS_PREFIX}/*]`, reason: `Catalog reads and writes product images only under the ${UPLOADS_PREFIX}/ prefix of the uploads bucket (object keys are random per upload); that prefix is the role's only wildcard.` });
      }
      this.roles[workload] = role;
      this.podIdentities.push(new eks.CfnPodIdentityAssociation(this, `PodIdentity-${workload}`, {
        clusterName: cluster.clusterName,
        namespace: settings.namespace,
        serviceAccount: workload,
        roleArn: role.roleArn,
      }));
    }

    let previous: eks.KubernetesManifest | undefined;
    for (const [name, chart] of chartEntries(this.charts)) {
      const manifest = new eks.KubernetesManifest(this, `Chart-${name}`, {
        cluster,
        manifest: chart.toJson(),
        overwrite: true,
      });
      // Namespace first; then in order, so a failed chart stops the ones after it.
      if (previous) manifest.node.addDependency(previous);
      previous = manifest;
      this.manifests[name] = manifest;
    }
    // Pods start with their AWS identity in place.
    for (const name of ['gateway', 'services', 'jobs', 'smoke']) this.manifests[name].node.addDependency(...this.podIdentities);
    // The controller's webhooks fail closed: the TargetGroupBinding and the gateway's pods wait for it.
    if (cluster.albController) this.manifests.gateway.node.addDependency(cluster.albController);

    if (c.workloads.smoke.gate) {
      // `.status.succeeded` appears only when the journey passed: a failed or slow one times the
      // gate out, which fails the deploy and rolls this stack back to the previous release.
      this.smokeGate = new eks.KubernetesObjectValue(this, 'SmokeGate', {
        cluster,
        objectType: 'job',
        objectName: this.charts.smoke.jobName,
        objectNamespace: settings.namespace,
        jsonPath: '.status.succeeded',
        timeout: Duration.seconds(c.workloads.smoke.deadlineSeconds + SMOKE_GATE_MARGIN_SECONDS),
      });
      this.smokeGate.node.addDependency(this.manifests.smoke);
      new CfnOutput(this, 'SmokeJob', { value: this.charts.smoke.jobName, description: `kubectl -n ${settings.namespace} logs job/${this.charts.smoke.jobName}` });
    }
  }
}

