import { App } from 'aws-cdk-lib';
import { PlatformConfig } from './config';
import { DataStack } from './stacks/data-stack';
import { NetworkStack } from './stacks/network-stack';

/** The stacks of one environment, as typed objects for tests and extensions. */
export interface Platform {
  readonly network: NetworkStack;
  readonly data: DataStack;
}

/** Instantiates every stack of one environment in `app`. Stack names: `<app>-<env>-<part>`. */
export function buildPlatform(app: App, config: PlatformConfig): Platform {
  const name = (part: string) => `${config.appName}-${config.envName}-${part}`;
  const network = new NetworkStack(app, name('network'), { config, description: `${config.appName} ${config.envName}: VPC, subnets, endpoints, flow logs` });
  const data = new DataStack(app, name('data'), { config, vpc: network.vpc, description: `${config.appName} ${config.envName}: MySQL, Redis cluster, OpenSearch, S3` });
  return { network, data };
}
