/**
 * The contract between the charts and the services: the environment each chart gives each
 * container is accepted by that service's own config specs (services/src/specs.ts), with no
 * missing, bad or unknown variable. Downward-API values (pod name, pod IP) are filled as a pod would.
 */
import { checkServiceEnv, SERVICE_ENV } from '../services/src/specs';
import { ENVS } from './support/platform';
import { buildCharts, podSpecOf, WORKLOAD_KINDS } from './support/workloads';

const POD = { POD_NAME: 'gateway-7d9f-abcde', POD_IP: '10.30.1.17' };

describe.each(ENVS)('chart environments against the services specs (%s)', (env) => {
  const { docs, config } = buildCharts(env);
  const containers = docs
    .filter((d) => WORKLOAD_KINDS.includes(d.kind) && !['etcd', 'otel-collector'].includes(d.metadata.name))
    .map((d) => ({ workload: `${d.kind}/${d.metadata.name}`, env: podSpecOf(d).containers[0].env as { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[] }));

  test('every platform workload runs a service the image knows', () => {
    const services = containers.map((c) => c.env.find((e) => e.name === 'SERVICE')?.value);
    const expected = ['catalog', 'gateway', ...(config.workloads.loadgen.enabled ? ['loadgen'] : []), 'order', 'order-timeout', 'search-sync', 'search-sync', 'smoke', 'user'];
    expect(services.sort()).toEqual(expected);
    for (const s of services) expect(Object.keys(SERVICE_ENV)).toContain(s);
  });

  test.each(containers.map((c) => [c.workload, c]))('%s: no missing, bad or unknown variable', (_w, c) => {
    const values: Record<string, string> = {};
    for (const e of c.env) {
      if (e.value !== undefined) values[e.name] = e.value;
      else if (e.valueFrom?.fieldRef.fieldPath === 'metadata.name') values[e.name] = POD.POD_NAME;
      else if (e.valueFrom?.fieldRef.fieldPath === 'status.podIP') values[e.name] = POD.POD_IP;
      else throw new Error(`${e.name}: only plain values and the downward API are expected`);
    }
    expect(checkServiceEnv(values.SERVICE, values)).toEqual([]);
  });

  test('the check can fail: an unknown or a bad variable is reported', () => {
    expect(checkServiceEnv('gateway', { SERVICE: 'gateway', TRUST_PROXY: '2', GATEWAY_TYPO: 'x' }).join('\n')).toMatch(/unknown variable GATEWAY_TYPO/);
    expect(checkServiceEnv('order', { SERVICE: 'order', PORT: 'eighty' }).join('\n')).toMatch(/PORT/);
  });
});
