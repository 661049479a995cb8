/**
 * Values that must agree across layers. The timeout chain comes from one place (config `timeouts`)
 * and nests: service < gateway < load balancer < CDN, so every answer a client gets is the
 * innermost layer's own. The registry's members each need a node.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigError, loadConfig } from '../lib/config';
import { build, ENVS, resourcesOf } from './support/platform';
import { buildCharts } from './support/workloads';

test.each(ENVS)('%s: the shipped timeouts nest with room for each answer', (env) => {
  const t = loadConfig(env).timeouts;
  expect(t.serviceRequestMs + 500).toBeLessThanOrEqual(t.gatewayUpstreamMs);
  expect(t.gatewayUpstreamMs + 1000).toBeLessThanOrEqual(t.loadBalancerIdleSeconds * 1000);
  expect(t.loadBalancerIdleSeconds).toBeLessThan(t.cdnOriginReadSeconds);
});

test('a chain that does not nest fails synth naming each field', () => {
  const bad = () => loadConfig('prod', { timeouts: { serviceRequestMs: 5000, gatewayUpstreamMs: 5000, loadBalancerIdleSeconds: 60, cdnOriginReadSeconds: 30 } });
  expect(bad).toThrow(ConfigError);
  expect(bad).toThrow(/timeouts\.gatewayUpstreamMs: must exceed timeouts\.serviceRequestMs \(5000\)/);
  expect(bad).toThrow(/timeouts\.cdnOriginReadSeconds: must exceed timeouts\.loadBalancerIdleSeconds \(60 s\)/);
  expect(() => loadConfig('dev', { timeouts: { serviceRequestMs: 4000, gatewayUpstreamMs: 5000, loadBalancerIdleSeconds: 15, cdnOriginReadSeconds: 90 } }))
    .toThrow(/timeouts\.cdnOriginReadSeconds: must be an integer from 1 to 60/);
});

describe('the edge takes its timeouts from the chain', () => {
  const { platform, config } = build('prod');
  const edge = Template.fromStack(platform.edge);

  test('the ALB waits loadBalancerIdleSeconds', () => {
    const [, alb] = resourcesOf(edge, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0];
    expect(alb.Properties.LoadBalancerAttributes).toEqual(expect.arrayContaining([{ Key: 'idle_timeout.timeout_seconds', Value: String(config.timeouts.loadBalancerIdleSeconds) }]));
  });

  test('CloudFront waits cdnOriginReadSeconds on the API origin', () => {
    const [, dist] = resourcesOf(edge, 'AWS::CloudFront::Distribution')[0];
    const api = dist.Properties.DistributionConfig.Origins.find((o: any) => o.VpcOriginConfig);
    expect(api.VpcOriginConfig.OriginReadTimeout).toBe(config.timeouts.cdnOriginReadSeconds);
  });
});

test.each(ENVS)('%s: the gateway container gets its upstream bound from the chain', (env) => {
  const { docs, config } = buildCharts(env);
  const gateway = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'gateway');
  expect(gateway.spec.template.spec.containers[0].env).toEqual(expect.arrayContaining([{ name: 'CLIENT_TIMEOUT_MS', value: String(config.timeouts.gatewayUpstreamMs) }]));
});

test.each(ENVS)('%s: each service answers within serviceRequestMs, below the gateway bound', (env) => {
  const { docs, config } = buildCharts(env);
  for (const name of ['user', 'catalog', 'order']) {
    const d = docs.find((doc) => doc.kind === 'Deployment' && doc.metadata.name === name);
    expect(d.spec.template.spec.containers[0].env).toEqual(expect.arrayContaining([{ name: 'REQUEST_BUDGET_MS', value: String(config.timeouts.serviceRequestMs) }]));
  }
  expect(config.timeouts.serviceRequestMs).toBeLessThan(config.timeouts.gatewayUpstreamMs);
});

test('the registry needs a node per etcd member: fewer nodes fail synth naming both fields', () => {
  const dev = loadConfig('dev');
  expect(() => loadConfig('dev', { cluster: { ...dev.cluster, minNodes: 1, desiredNodes: 2 } }))
    .toThrow(/workloads\.registry\.members: must not exceed cluster\.desiredNodes \(2\)/);
});
