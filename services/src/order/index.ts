/**
 * order service: cart in Redis, checkout (prices from catalog through the registry-discovered
 * service client; Redis locks on the reserved products; order + stock change in one MySQL
 * transaction with conditional UPDATEs), `order.created` on a Redis Stream, orders read and paid.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createService, loadConfig, propagatedHeaders, readIdentity, ServiceHttpError, type Service, type ServiceDefinition } from '../kit';
import { connectMysql, connectRedis, NotReadyError, withDependencyErrors } from '../data/dependencies';
import { withLocks } from '../data/redis-lock';
import { publishOutbox } from '../data/outbox';
import { CartStore } from './cart';
import { orderEnv, orderSpec } from './env';
import { getOrder, listOrders, markPaid, OutOfStockError, placeOrder, type OrderLine } from './orders-store';

export { orderSpec };

const id = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;

interface CatalogProduct {
  id: number;
  priceCents: number;
  stock: number;
  name: string;
}

export const stockLockKey = (productId: number) => `lock:stock:{${productId}}`;

export async function createOrderService(overrides: Partial<ServiceDefinition> = {}): Promise<Service> {
  const cfg = loadConfig(orderEnv);
  return createService({
    name: 'order',
    async routes(app, ctx) {
      const db = connectMysql(ctx);
      const redis = connectRedis(ctx);
      const carts = new CartStore(redis);
      const pool = () => {
        if (!db.isMigrated()) throw new NotReadyError('database');
        return db.pool;
      };
      const userOf = (req: FastifyRequest, reply: FastifyReply): number | undefined => {
        const n = Number(readIdentity(req.headers)?.userId);
        if (Number.isSafeInteger(n) && n > 0) return n;
        void reply.code(401).send({ error: 'unauthorized', message: 'Log in first', requestId: req.id });
        return undefined;
      };
      const fail = (req: FastifyRequest, reply: FastifyReply, status: number, error: string, message: string, extra: object = {}) =>
        reply.code(status).send({ error, message, ...extra, requestId: req.id });

      await withDependencyErrors(app, ctx, (api) => {
        api.get('/cart', async (req, reply) => {
          const userId = userOf(req, reply);
          if (userId === undefined) return reply;
          return { items: await carts.get(userId) };
        });

        api.put<{ Params: { productId: number }; Body: { quantity: number } }>(
          '/cart/items/:productId',
          {
            schema: {
              params: { type: 'object', required: ['productId'], properties: { productId: id } },
              body: { type: 'object', required: ['quantity'], additionalProperties: false, properties: { quantity: { type: 'integer', minimum: 0, maximum: 100 } } },
            },
          },
          async (req, reply) => {
            const userId = userOf(req, reply);
            if (userId === undefined) return reply;
            return { items: await carts.set(userId, req.params.productId, req.body.quantity) };
          },
        );

        api.delete('/cart', async (req, reply) => {
          const userId = userOf(req, reply);
          if (userId === undefined) return reply;
          await carts.clear(userId);
          return reply.code(204).send();
        });

        api.post('/checkout', async (req, reply) => {
          const userId = userOf(req, reply);
          if (userId === undefined) return reply;
          const items = await carts.get(userId);
          if (items.length === 0) return fail(req, reply, 409, 'cart_empty', 'The cart is empty');
          const query = items.map((i) => `ids=${i.productId}`).join('&');
          let products: CatalogProduct[];
          try {
            ({ products } = await ctx.client.json<{ products: CatalogProduct[] }>(cfg.CATALOG_SERVICE, {
              path: `/public/products?${query}`,
              headers: propagatedHeaders(req.headers),
            }));
          } catch (err) {
            if (err instanceof ServiceHttpError && err.statusCode < 500) throw Object.assign(new Error('catalog rejected the lookup'), { cause: err });
            throw err;
          }
          const byId = new Map(products.map((p) => [p.id, p]));
          const missing = items.find((i) => !byId.has(i.productId));
          if (missing) return fail(req, reply, 409, 'unknown_product', `Product ${missing.productId} no longer exists`, { productId: missing.productId });
          const lines: OrderLine[] = items.map((i) => ({ productId: i.productId, quantity: i.quantity, priceCents: byId.get(i.productId)!.priceCents }));
          const db = pool();
          try {
            // The locks keep concurrent checkouts of a product from piling onto the same InnoDB rows;
            // the conditional UPDATE inside placeOrder is what guarantees stock never goes negative.
            const { eventId, ...order } = await withLocks(redis, lines.map((l) => stockLockKey(l.productId)), () => placeOrder(db, userId, lines), {
              waitMs: cfg.CHECKOUT_LOCK_WAIT_MS,
              ttlMs: cfg.CHECKOUT_LOCK_TTL_MS,
            });
            // Committed with the order; if this publish fails the order-timeout job's relay sends it.
            await publishOutbox(db, redis, [eventId]).catch((err: Error) =>
              req.log.warn({ err: err.message, orderId: order.id }, 'order.created left in the outbox for the relay'),
            );
            await carts.clear(userId).catch(() => undefined);
            return reply.code(201).send({ order });
          } catch (err) {
            if (err instanceof OutOfStockError) return fail(req, reply, 409, 'out_of_stock', err.message, { productId: err.productId });
            throw err;
          }
        });

        api.get('/orders', async (req, reply) => {
          const userId = userOf(req, reply);
          if (userId === undefined) return reply;
          return { orders: await listOrders(pool(), userId) };
        });

        api.get<{ Params: { id: number } }>('/orders/:id', { schema: { params: { type: 'object', required: ['id'], properties: { id } } } }, async (req, reply) => {
          const userId = userOf(req, reply);
          if (userId === undefined) return reply;
          const order = await getOrder(pool(), req.params.id);
          if (!order || order.userId !== userId) return fail(req, reply, 404, 'not_found', 'No such order');
          return { order };
        });

        api.post<{ Params: { id: number } }>('/orders/:id/pay', { schema: { params: { type: 'object', required: ['id'], properties: { id } } } }, async (req, reply) => {
          const userId = userOf(req, reply);
          if (userId === undefined) return reply;
          if (await markPaid(pool(), req.params.id, userId)) return { order: await getOrder(pool(), req.params.id) };
          const order = await getOrder(pool(), req.params.id);
          if (!order || order.userId !== userId) return fail(req, reply, 404, 'not_found', 'No such order');
          return fail(req, reply, 409, 'not_pending', `The order is ${order.status}`);
        });
      });
    },
    ...overrides,
  });
}

export async function start(): Promise<void> {
  const svc = await createOrderService();
  svc.handleSignals();
  await svc.start();
}
