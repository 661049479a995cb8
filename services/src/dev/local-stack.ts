/**
 * The whole platform in one process, for a laptop (not in the image's entry table, not for
 * Kubernetes): user :8082, catalog :8083, order :8084, the gateway on :8080 (JWKS from the user
 * service), and search-sync following the streams. Every piece still registers in etcd and talks
 * over HTTP, exactly as when deployed. Engines: `scripts/engines.sh up`; then
 * `node services/dist/dev/local-stack.js` (after `npm run build --prefix services`).
 */
import { createCatalogService } from '../catalog';
import { createGateway } from '../gateway';
import { createLogger, kitSpec, loadConfig, type Service } from '../kit';
import { createOrderService } from '../order';
import { createUserService } from '../user';

const PORTS = { user: 8082, catalog: 8083, order: 8084, gateway: 8080 };

async function withPort(port: number, create: () => Promise<Service>): Promise<Service> {
  process.env.PORT = String(port);
  const svc = await create();
  await svc.start();
  return svc;
}

async function main(): Promise<void> {
  const log = createLogger({ service: 'local-stack', level: loadConfig({ LOG_LEVEL: kitSpec.LOG_LEVEL }).LOG_LEVEL });
  process.env.HOST ??= '127.0.0.1';
  process.env.SEARCH_SYNC_MODE = 'follow';
  const started: Service[] = [];
  started.push(await withPort(PORTS.user, () => createUserService()));
  started.push(await withPort(PORTS.catalog, () => createCatalogService()));
  started.push(await withPort(PORTS.order, () => createOrderService()));
  process.env.JWT_JWKS_URL ??= `http://127.0.0.1:${PORTS.user}/.well-known/jwks.json`;
  started.push(await withPort(PORTS.gateway, () => createGateway()));
  log.info({ gateway: `http://127.0.0.1:${PORTS.gateway}/api/` }, 'local stack up; Ctrl-C stops it');
  // search-sync's follow mode stops on the same SIGINT/SIGTERM, then everything shuts down in order.
  const { start: searchSync } = await import('../jobs/search-sync');
  await searchSync();
  for (const svc of started.reverse()) await svc.stop();
}

main().catch((err: Error) => {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: err.message, name: err.name })}\n`);
  process.exit(1);
});
