import { App } from 'cdk8s';
import { buildWorkloadCharts, chartEntries } from '../../k8s/app';
import { WorkloadSettings } from '../../k8s/settings';
import { loadConfig, PlatformConfig } from '../../lib/config';
import { ENDPOINT_OUTPUTS, WorkloadEndpoints, workloadSettings } from '../../lib/workloads/settings';

/** Concrete endpoints such as a deployed environment reports (the GitOps path: no tokens). */
export function exampleEndpoints(config: PlatformConfig): WorkloadEndpoints {
  const acct = '111111111111';
  const r = config.region;
  return {
    image: `${acct}.dkr.ecr.${r}.amazonaws.com/platform-services:1.2.3`,
    release: '1.2.3',
    targetGroupArn: `arn:aws:elasticloadbalancing:${r}:${acct}:targetgroup/gateway/0123456789abcdef`,
    mysql: { host: `mysql.abc.${r}.rds.amazonaws.com`, port: '3306', secretArn: `arn:aws:secretsmanager:${r}:${acct}:secret:rds-AbCdEf` },
    redis: { host: `clustercfg.redis.abc.euw1.cache.amazonaws.com`, port: '6379', secretArn: `arn:aws:secretsmanager:${r}:${acct}:secret:redis-AbCdEf` },
    opensearch: { host: `vpc-search-abc.${r}.es.amazonaws.com`, secretArn: `arn:aws:secretsmanager:${r}:${acct}:secret:search-AbCdEf` },
    uploadsBucket: `platform-${config.envName}-uploads`,
    jwtSigningKeySecretArn: `arn:aws:secretsmanager:${r}:${acct}:secret:jwt-AbCdEf`,
    smokeSecretArn: `arn:aws:secretsmanager:${r}:${acct}:secret:smoke-AbCdEf`,
    adminSecretArn: `arn:aws:secretsmanager:${r}:${acct}:secret:admin-AbCdEf`,
  };
}

/** The outputs file `cdk deploy --outputs-file` would write for these endpoints. */
export function outputsFile(config: PlatformConfig, e: WorkloadEndpoints): Record<string, Record<string, string>> {
  const outputs = Object.fromEntries(Object.entries(ENDPOINT_OUTPUTS).map(([k, f]) => [k, f(e)]));
  return { [`${config.appName}-${config.envName}-workloads`]: outputs };
}

export interface BuiltCharts {
  readonly config: PlatformConfig;
  readonly settings: WorkloadSettings;
  /** [chart name, its manifests] in apply order. */
  readonly charts: [string, any[]][];
  readonly docs: any[];
}

export function buildCharts(env: string): BuiltCharts {
  const config = loadConfig(env);
  const settings = workloadSettings(config, exampleEndpoints(config));
  const charts = chartEntries(buildWorkloadCharts(new App(), settings)).map(([name, chart]) => [name, chart.toJson()] as [string, any[]]);
  return { config, settings, charts, docs: charts.flatMap(([, docs]) => docs) };
}

/** The pod spec of a workload object (Deployment, StatefulSet, CronJob), or undefined. */
export function podSpecOf(doc: any): any {
  if (doc.kind === 'CronJob') return doc.spec.jobTemplate.spec.template.spec;
  if (['Deployment', 'StatefulSet', 'Job'].includes(doc.kind)) return doc.spec.template.spec;
  return undefined;
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'CronJob', 'Job'];
