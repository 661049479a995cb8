import type { RegistryClient } from '../../src/kit';
import { engines, eventually, registryClient, spawnEcho, startEcho, startGateway, testIssuer, unique, type TestGateway } from '../support/engines';

const TTL_SECONDS = 4; // serviceEnv's REGISTRY_TTL_SECONDS
let gw: TestGateway;
let token: string;
let watcher: RegistryClient;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  const issuer = await testIssuer();
  token = await issuer.token();
  gw = await startGateway(issuer);
  await gw.setting('rate-limits', { ip: { limit: 1_000_000, windowSeconds: 60 } });
  watcher = registryClient();
  await watcher.discover();
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await watcher?.close();
  await gw?.stop();
});

const ids = (service: string) => watcher.instances(service).map((i) => i.id);

describe('instance lifecycle in the registry', () => {
  it('a process registers and is routable within 1 s; after SIGKILL it disappears when its lease expires (one TTL + etcd slack)', async () => {
    const name = unique('svc');
    const spawnedAt = Date.now();
    const p = await spawnEcho(name);
    cleanups.push(async () => p.child.kill('SIGKILL'));
    const listening = Date.now();
    const routable = await eventually(async () => (await fetch(`${gw.url}/api/${name}/`, { headers: { authorization: `Bearer ${token}` } })).status === 200, 1000, 'routable');
    expect(routable).toBeLessThan(1000);
    expect(listening - spawnedAt).toBeLessThan(20_000);
    p.child.kill('SIGKILL');
    // The key goes when the lease expires: one TTL after the last keep-alive. Slack on top: etcd
    // checks expiry every 500 ms, and on a loaded machine (seen: applies taking > 1 s) or after a
    // leader change (which renews every lease) it comes later.
    const bound = (TTL_SECONDS + 3) * 1000;
    const goneIn = await eventually(() => ids(name).length === 0, bound, 'gone after SIGKILL');
    expect(goneIn).toBeLessThanOrEqual(bound);
  }, 40_000);

  it('after SIGTERM it is gone at once, exits 0, and a steady load through the gateway sees no failed request', async () => {
    const name = unique('svc');
    const stays = await startEcho(name);
    cleanups.push(() => stays.stop());
    const leaving = await spawnEcho(name);
    cleanups.push(async () => leaving.child.kill('SIGKILL'));
    await eventually(() => gw.svc.ctx.registry!.instances(name).length === 2, 2000, 'both routable');

    const statuses = new Map<number, number>();
    const servedBy = new Set<string>();
    let running = true;
    const worker = async () => {
      while (running) {
        try {
          const res = await fetch(`${gw.url}/api/${name}/work?delay=20`, { headers: { authorization: `Bearer ${token}` } });
          const body = (await res.json()) as { instance?: string };
          if (body.instance) servedBy.add(body.instance);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        } catch {
          statuses.set(-1, (statuses.get(-1) ?? 0) + 1);
        }
      }
    };
    const load = Array.from({ length: 8 }, worker);
    await new Promise((r) => setTimeout(r, 700));
    leaving.child.kill('SIGTERM');
    const termAt = Date.now();
    const goneIn = await eventually(() => ids(name).length === 1, 1000, 'deregistered');
    const code = await leaving.exited;
    const exitedIn = Date.now() - termAt;
    await new Promise((r) => setTimeout(r, 500));
    running = false;
    await Promise.all(load);

    expect(goneIn).toBeLessThan(500);
    expect(code).toBe(0);
    expect(exitedIn).toBeLessThan(5000);
    expect(servedBy.size).toBe(2);
    expect([...statuses.keys()]).toEqual([200]);
    expect(statuses.get(200)).toBeGreaterThan(50);
  }, 40_000);

  it('leaves the registry while a critical readiness check fails, and comes back', async () => {
    const name = unique('svc');
    let dbUp = true;
    const e = await startEcho(name, { READINESS_POLL_MS: '200' }, { db: () => dbUp });
    cleanups.push(() => e.stop());
    await eventually(() => gw.svc.ctx.registry!.instances(name).length === 1, 1000, 'registered');
    dbUp = false;
    await eventually(() => gw.svc.ctx.registry!.instances(name).length === 0, 2000, 'left while not ready');
    const res = await fetch(`${gw.url}/api/${name}/`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(503);
    dbUp = true;
    await eventually(() => gw.svc.ctx.registry!.instances(name).length === 1, 2000, 'back when ready');
  });

  it('registers again when its lease is lost', async () => {
    const name = unique('svc');
    const e = await startEcho(name);
    cleanups.push(() => e.stop());
    await eventually(() => ids(name).length === 1, 1000, 'registered');
    const kv = (await watcher.etcd.getAll().prefix(watcher.instanceKey(name, e.instance.id)).exec()).kvs[0];
    await watcher.etcd.leaseClient.leaseRevoke({ ID: kv.lease });
    await eventually(() => ids(name).length === 0, 1000, 'gone with its lease');
    const back = await eventually(() => ids(name).length === 1, TTL_SECONDS * 1000, 'registered again');
    expect(back).toBeLessThan(TTL_SECONDS * 1000);
    // counted for the RegistryLeaseLost alert
    const metrics = await (await fetch(`${e.url}/metrics`)).text();
    expect(metrics).toContain(`registry_lease_lost_total{service="${name}"} 1`);
  }, 30_000);

  it('exposes registry_lease_lost_total at 0 before any loss (an alert sees the first one)', async () => {
    const name = unique('svc');
    const e = await startEcho(name);
    cleanups.push(() => e.stop());
    const metrics = await (await fetch(`${e.url}/metrics`)).text();
    expect(metrics).toContain(`registry_lease_lost_total{service="${name}"} 0`);
  });

  it('keeps registering and discovering while one etcd member is down', async () => {
    const name = unique('svc');
    const before = await startEcho(name);
    cleanups.push(() => before.stop());
    await eventually(() => ids(name).length === 1, 1000, 'registered');
    await engines('kill', 'etcd', '1');
    cleanups.push(() => engines('start', 'etcd', '1'));
    // Longer than a TTL: the lease is kept alive through the other members.
    await new Promise((r) => setTimeout(r, (TTL_SECONDS + 1) * 1000));
    expect(ids(name)).toEqual([before.instance.id]);
    const after = await startEcho(name);
    cleanups.push(() => after.stop());
    await eventually(() => gw.svc.ctx.registry!.instances(name).length === 2, 3000, 'new instance discovered by the gateway');
    const res = await fetch(`${gw.url}/api/${name}/`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    await gw.setting('public-paths', [`/api/${name}/**`]);
    expect((await fetch(`${gw.url}/api/${name}/`)).status).toBe(200);
    await engines('start', 'etcd', '1');

    // Each member in turn (one of them carries the gateway's watch stream, which must move).
    for (const member of ['2', '3']) {
      await engines('kill', 'etcd', member);
      const more = await startEcho(name);
      cleanups.push(() => more.stop());
      await eventually(() => gw.svc.ctx.registry!.instances(name).some((i) => i.id === more.instance.id), 8000, `discovery with etcd ${member} down`);
      await engines('start', 'etcd', member);
    }
    expect(gw.svc.ctx.registry!.instances(name).map((i) => i.id)).toEqual(expect.arrayContaining([before.instance.id, after.instance.id]));
  }, 90_000);
});
