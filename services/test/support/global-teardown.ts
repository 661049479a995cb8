import { Etcd3 } from 'etcd3';

/** Deletes this run's registry keys (leases expire anyway; dynamic config keys would stay). */
export default async function globalTeardown(): Promise<void> {
  const root = process.env.REGISTRY_ROOT;
  const endpoints = process.env.ETCD_ENDPOINTS;
  if (!root || !root.startsWith('/test-') || !endpoints) return;
  const etcd = new Etcd3({ hosts: endpoints.split(','), dialTimeout: 2000 });
  try {
    await etcd.delete().prefix(`${root}/`);
  } catch {
    // Best effort: a stopped etcd has nothing to clean.
  } finally {
    etcd.close();
  }
}
