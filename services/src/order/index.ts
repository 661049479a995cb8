/**
 * order service: cart in Redis, checkout (prices from catalog through the registry-discovered
 * service client; Redis locks on the reserved products; order + stock change in one MySQL
 * transaction with conditional UPDATEs), `order.created` on a Redis Stream, orders read and paid.
 *
 * Checkout is idempotent: it needs an `Idempotency-Key` header; a repeat with the same key (a retry,
 * a double click) answers the first order, another body under the same key is a 422. A cart is
 * checked out by one request at a time (a lock per cart); the key is claimed in the order's own
 * MySQL transaction, so even a lost Redis lock cannot make two orders of one key.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import {
  createService, loadConfig, propagatedHeaders, replyError, requireUserId, ServiceHttpError, tokenVerifier, type Service, type ServiceDefinition,
} from '../kit';
import { connectMysql, connectRedis, NotReadyError, withDependencyErrors } from '../data/dependencies';
import { acquireLock, LockTimeoutError, withLocks, type HeldLock } from '../data/redis-lock';
import { publishOutbox } from '../data/outbox';
import { CartStore, type CartItem } from './cart';
import { orderEnv, orderRules, orderSpec } from './env';
import {
  DuplicateCheckoutError, findCheckoutRequest, getOrder, listOrders, markPaid, OutOfStockError, placeOrder, type OrderLine,
} from './orders-store';

export { orderSpec };

const id = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;

interface CatalogProduct {
  id: number;
  priceCents: number;
  stock: number;
  name: string;
}

export const stockLockKey = (productId: number) => `lock:stock:{${productId}}`;
export const cartLockKey = (userId: number) => `lock:cart:{${userId}}`;

/** The checkout's key: what a client generates once per checkout and resends on a retry. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The optional checkout body: the items the client confirmed (they must be the cart's). */
interface CheckoutBody {
  readonly items?: CartItem[];
}

function checkoutBody(body: unknown): CheckoutBody | string {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) return 'body must be an object';
  const { items, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra) return 'body must NOT have additional properties';
  if (items === undefined) return {};
  if (!Array.isArray(items) || items.length > 100) return 'body/items must be an array of at most 100 items';
  const out: CartItem[] = [];
  for (const [i, item] of items.entries()) {
    const { productId, quantity, ...more } = (item ?? {}) as Record<string, unknown>;
    if (!Number.isSafeInteger(productId) || (productId as number) < 1) return `body/items/${i}/productId must be a positive integer`;
    if (!Number.isInteger(quantity) || (quantity as number) < 1 || (quantity as number) > 100) return `body/items/${i}/quantity must be an integer from 1 to 100`;
    if (Object.keys(more).length) return `body/items/${i} must NOT have additional properties`;
    out.push({ productId: productId as number, quantity: quantity as number });
  }
  return { items: out.sort((a, b) => a.productId - b.productId) };
}

/** The fingerprint of a checkout request: what the same key must come with again. */
function fingerprint(body: CheckoutBody): string {
  return createHash('sha256').update(JSON.stringify({ items: body.items ?? null })).digest('hex');
}

function sameItems(a: readonly CartItem[], b: readonly CartItem[]): boolean {
  return a.length === b.length && a.every((x, i) => x.productId === b[i].productId && x.quantity === b[i].quantity);
}

export async function createOrderService(overrides: Partial<ServiceDefinition> = {}): Promise<Service> {
  const cfg = loadConfig(orderEnv, process.env, orderRules);
  return createService({
    name: 'order',
    tokens: tokenVerifier(cfg),
    async routes(app, ctx) {
      const db = connectMysql(ctx);
      const redis = connectRedis(ctx);
      const carts = new CartStore(redis);
      const pool = () => {
        if (!db.isMigrated()) throw new NotReadyError('database');
        return db.pool;
      };

      await withDependencyErrors(app, ctx, (api) => {
        api.get('/cart', async (req, reply) => {
          const userId = requireUserId(req, reply);
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
            const userId = requireUserId(req, reply);
            if (userId === undefined) return reply;
            return { items: await carts.set(userId, req.params.productId, req.body.quantity) };
          },
        );

        api.delete('/cart', async (req, reply) => {
          const userId = requireUserId(req, reply);
          if (userId === undefined) return reply;
          await carts.clear(userId);
          return reply.code(204).send();
        });

        api.post('/checkout', async (req, reply) => {
          const userId = requireUserId(req, reply);
          if (userId === undefined) return reply;
          const rawKey = req.headers['idempotency-key'];
          const key = Array.isArray(rawKey) ? rawKey[0] : rawKey;
          if (!key) {
            return replyError(reply, 400, 'idempotency_key_required', 'Send an Idempotency-Key header: a new random value for each checkout, the same value when retrying it');
          }
          if (!IDEMPOTENCY_KEY.test(key)) return replyError(reply, 400, 'invalid_request', 'headers/idempotency-key must be 1 to 255 visible ASCII characters');
          const body = checkoutBody(req.body);
          if (typeof body === 'string') return replyError(reply, 400, 'invalid_request', body);
          const hash = fingerprint(body);
          const db = pool();

          /** The answer of the checkout made under this key before, if one was. */
          const replay = async (): Promise<FastifyReply | undefined> => {
            const prior = await findCheckoutRequest(db, userId, key);
            if (!prior || prior.orderId === null) return undefined;
            if (prior.requestHash !== hash) {
              return replyError(reply, 422, 'idempotency_key_reused', 'This Idempotency-Key came with another checkout request; use a new key for a new checkout');
            }
            const order = await getOrder(db, prior.orderId);
            return reply.code(201).header('idempotent-replayed', 'true').send({ order });
          };
          const before = await replay();
          if (before) return before;

          // One checkout of a cart at a time; a repeat waits here, then finds the first one's order.
          let cartLock: HeldLock;
          try {
            cartLock = await acquireLock(redis, cartLockKey(userId), { waitMs: cfg.CHECKOUT_LOCK_WAIT_MS, ttlMs: cfg.CHECKOUT_LOCK_TTL_MS });
          } catch (err) {
            if (!(err instanceof LockTimeoutError)) throw err;
            reply.header('retry-after', '1');
            return replyError(reply, 409, 'checkout_in_progress', 'Another checkout of this cart is in progress');
          }
          try {
            const meanwhile = await replay();
            if (meanwhile) return meanwhile;
            const { items, version } = await carts.read(userId);
            if (items.length === 0) return replyError(reply, 409, 'cart_empty', 'The cart is empty');
            if (body.items && !sameItems(body.items, items)) {
              return replyError(reply, 409, 'cart_changed', 'The cart is not what the request says; review it and check out again', { items });
            }
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
            if (missing) return replyError(reply, 409, 'unknown_product', `Product ${missing.productId} no longer exists`, { productId: missing.productId });
            const lines: OrderLine[] = items.map((i) => ({ productId: i.productId, quantity: i.quantity, priceCents: byId.get(i.productId)!.priceCents }));
            let placed: Awaited<ReturnType<typeof placeOrder>>;
            try {
              // The locks keep concurrent checkouts of a product from piling onto the same InnoDB rows;
              // the conditional UPDATE inside placeOrder is what guarantees stock never goes negative.
              placed = await withLocks(redis, lines.map((l) => stockLockKey(l.productId)), () => placeOrder(db, userId, lines, { key, hash }), {
                waitMs: cfg.CHECKOUT_LOCK_WAIT_MS,
                ttlMs: cfg.CHECKOUT_LOCK_TTL_MS,
              });
            } catch (err) {
              if (err instanceof DuplicateCheckoutError) {
                const first = await replay();
                if (first) return first;
              }
              if (err instanceof OutOfStockError) return replyError(reply, 409, 'out_of_stock', err.message, { productId: err.productId });
              throw err;
            }
            const { eventId, ...order } = placed;
            // Committed with the order; publishing also drops the products' cache entries. If it
            // fails, the order-timeout job's relay does both.
            await publishOutbox(db, redis, [eventId]).catch((err: Error) =>
              req.log.warn({ err: err.message, orderId: order.id }, 'order.created left in the outbox for the relay'),
            );
            await carts.clearIf(userId, version).catch(() => undefined);
            return reply.code(201).send({ order });
          } finally {
            await cartLock.release().catch(() => false);
          }
        });

        api.get('/orders', async (req, reply) => {
          const userId = requireUserId(req, reply);
          if (userId === undefined) return reply;
          return { orders: await listOrders(pool(), userId) };
        });

        api.get<{ Params: { id: number } }>('/orders/:id', { schema: { params: { type: 'object', required: ['id'], properties: { id } } } }, async (req, reply) => {
          const userId = requireUserId(req, reply);
          if (userId === undefined) return reply;
          const order = await getOrder(pool(), req.params.id);
          if (!order || order.userId !== userId) return replyError(reply, 404, 'not_found', 'No such order');
          return { order };
        });

        api.post<{ Params: { id: number } }>('/orders/:id/pay', { schema: { params: { type: 'object', required: ['id'], properties: { id } } } }, async (req, reply) => {
          const userId = requireUserId(req, reply);
          if (userId === undefined) return reply;
          if (await markPaid(pool(), req.params.id, userId)) return { order: await getOrder(pool(), req.params.id) };
          const order = await getOrder(pool(), req.params.id);
          if (!order || order.userId !== userId) return replyError(reply, 404, 'not_found', 'No such order');
          return replyError(reply, 409, 'not_pending', `The order is ${order.status}`);
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
