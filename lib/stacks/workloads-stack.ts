import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { App as Cdk8sApp } from 'cdk8s';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { buildWorkloadCharts, chartEntries, OTEL_COLLECTOR, WorkloadCharts } from '../../k8s/app';
import { acknowledge } from '../compliance';
import { SMOKE_GATE_MARGIN_SECONDS } from '../config';
import { EncryptionKey } from '../constructs/encryption-key';
import { ManagedPrometheus } from '../constructs/managed-prometheus';
import { platformRules, renderRules } from '../observability/prometheus-rules';
import { PlatformCluster } from '../constructs/platform-cluster';
import { KeyRef, WorkloadIdentities } from '../workloads/identities';
import { ENDPOINT_OUTPUTS, WorkloadEndpoints, workloadSettings } from '../workloads/settings';
import { DataStack } from './data-stack';
import { EdgeStack } from './edge-stack';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface WorkloadsStackProps extends PlatformStackProps {
  readonly platformCluster: PlatformCluster;
  readonly data: DataStack;
  readonly edge: EdgeStack;
  /**
   * Topic the managed Prometheus alert manager sends the burn-rate and component alerts to.
   * @default none: the rules are evaluated, their alerts go nowhere
   */
  readonly alarmTopic?: sns.ITopic;
}

/** Workloads that call AWS with their own identity: one role each, bound to the chart's ServiceAccount. */
const IDENTITIES: Record<string, string> = {
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
  /** One Pod Identity role per workload. */
  readonly identities: WorkloadIdentities;
  readonly roles: Record<string, iam.Role>;
  readonly podIdentities: eks.CfnPodIdentityAssociation[];
  /** Manifests by chart name, in apply order. */
  readonly manifests: Record<string, eks.KubernetesManifest> = {};
  /** The dedicated account of the smoke journey: `{"email","password"}`, generated. */
  readonly smokeAccount: secretsmanager.Secret;
  /** The bootstrap admin: `{"email","password"}` (email from config, password generated); it grants roles. */
  readonly adminAccount: secretsmanager.Secret;
  /** Waits for the release's smoke Job to succeed (workloads.smoke.gate); undefined when off. */
  readonly smokeGate?: eks.KubernetesObjectValue;
  /** The services' metrics: managed Prometheus workspace, scraper, SLO and component rules (observability.managedPrometheus). */
  readonly metrics?: ManagedPrometheus;

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

    // An export with a fixed name, so the uploads prefix's one wildcard is acknowledged by its exact id.
    const uploadsExport = `${props.data.stackName}-UploadsBucketArn`;
    const secret = (arn: string, key: KeyRef) => ({ arn, key });
    this.identities = new WorkloadIdentities(this, 'Identities', {
      cluster,
      namespace: settings.namespace,
      workloads: {
        ...Object.fromEntries(Object.entries(IDENTITIES).filter(([w]) => w !== 'loadgen' || c.workloads.loadgen.enabled)),
        // The trace collector's X-Ray writes.
        ...(settings.tracing.enabled ? { [OTEL_COLLECTOR.name]: OTEL_COLLECTOR.name } : {}),
      },
      storeSecrets: {
        mysql: secret(mysql.secretArn, mysql.encryptionKey),
        redis: secret(redis.userSecret.secretArn, redis.encryptionKey),
        opensearch: secret(searchSecret.secretArn, search.encryptionKey),
      },
      serviceSecrets: {
        user: [secret(this.jwtSigningKey.secretArn, secretsKey), secret(this.adminAccount.secretArn, secretsKey)],
        smoke: [secret(this.smokeAccount.secretArn, secretsKey)],
        loadgen: [secret(this.smokeAccount.secretArn, secretsKey)],
      },
      // The first user pod stores the generated signing key (once: an idempotency token).
      writableSecrets: { user: [secret(this.jwtSigningKey.secretArn, secretsKey)] },
      uploads: {
        bucketArn: props.data.exportValue(buckets.uploads.bucketArn, { name: uploadsExport }),
        acknowledgedArn: uploadsExport,
        key: buckets.encryptionKey,
        prefix: UPLOADS_PREFIX,
      },
    });
    this.roles = this.identities.roles;
    this.podIdentities = this.identities.associations;

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
    for (const name of ['telemetry', 'gateway', 'services', 'jobs', 'smoke']) this.manifests[name]?.node.addDependency(...this.podIdentities);
    // The controller's webhooks fail closed: the TargetGroupBinding and the gateway's pods wait for it.
    if (cluster.albController) this.manifests.gateway.node.addDependency(cluster.albController);

    // No agent in the cluster: the AWS managed scraper reads the annotated pods' /metrics.
    if (c.observability.managedPrometheus) this.metrics = new ManagedPrometheus(this, 'Metrics', {
      cluster,
      alias: `${c.appName}-${c.envName}`,
      namespaces: [settings.namespace],
      metricsPorts: [settings.metricsPort],
      ruleNamespaces: [{ name: 'platform', data: renderRules(platformRules(c.observability.slo)) }],
      alarmTopic: props.alarmTopic,
      logRetention: c.observability.logRetentionDays as logs.RetentionDays,
      removalPolicy: c.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

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

