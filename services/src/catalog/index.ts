/**
 * catalog service: products and stock in MySQL, product reads cache-aside in Redis, full-text
 * search on OpenSearch, image upload by presigned S3 PUT, view counters and hot products.
 * Writes publish `product.changed` so search-sync reindexes; they also write through to the index
 * (versioned, so the consumer's later write of the same version is a no-op).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  createService, loadConfig, readIdentity, replyError, replyLoginRequired, tokenVerifier, type Service, type ServiceDefinition,
} from '../kit';
import { connectMysql, connectRedis, connectUploads, isRedisUnavailable, NotReadyError, withDependencyErrors } from '../data/dependencies';
import { connectSearch, SORTS, type ProductQuery } from './product-search';
import { publishEvent } from '../data/streams';
import { IMAGE_TYPES, MAX_IMAGE_BYTES } from '../data/uploads';
import { PRODUCT_STREAM } from '../data/events';
import { catalogEnv, catalogRules, catalogSpec } from './env';
import { ProductCache } from './product-cache';
import {
  createProduct, DuplicateSkuError, getProduct, getProducts, setImageKey, toSearchDoc, updateProduct, type NewProduct, type Product, type ProductPatch,
} from './products-store';

export { catalogSpec };

const id = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;
const idParams = { type: 'object', required: ['id'], properties: { id } } as const;
const productFields = {
  name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' },
  description: { type: 'string', maxLength: 10_000 },
  category: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9 _-]*$' },
  priceCents: { type: 'integer', minimum: 0, maximum: 100_000_000 },
  stock: { type: 'integer', minimum: 0, maximum: 1_000_000 },
} as const;

export async function createCatalogService(overrides: Partial<ServiceDefinition> = {}): Promise<Service> {
  const cfg = loadConfig(catalogEnv, process.env, catalogRules);
  const writerRole = cfg.CATALOG_WRITER_ROLE;
  return createService({
    name: 'catalog',
    tokens: tokenVerifier(cfg),
    async routes(app, ctx) {
      const db = connectMysql(ctx);
      const redis = connectRedis(ctx);
      const search = connectSearch(ctx);
      const uploads = connectUploads(ctx);
      const cache = new ProductCache(redis, cfg.CATALOG_CACHE_TTL_SECONDS);
      const pool = () => {
        if (!db.isMigrated()) throw new NotReadyError('database');
        return db.pool;
      };
      const requireWriter = (req: FastifyRequest, reply: FastifyReply): boolean => {
        const who = readIdentity(req.headers);
        if (!who) {
          void replyLoginRequired(reply);
          return false;
        }
        if (!who.roles.includes(writerRole) && !who.roles.includes('admin')) {
          void replyError(reply, 403, 'forbidden', `Writing products needs the ${writerRole} role`);
          return false;
        }
        return true;
      };
      const notFound = (reply: FastifyReply) => replyError(reply, 404, 'not_found', 'No such product');

      /** After a write: drop the cache entry, tell search-sync, and index now (best effort). */
      const changed = async (product: Product) => {
        await cache.invalidate(product.id);
        await publishEvent(redis, PRODUCT_STREAM, 'product.changed', { productId: product.id }).catch((err: Error) =>
          ctx.log.warn({ err: err.message, productId: product.id }, 'product event not published; nightly reindex will catch up'),
        );
        if (search.isReady()) {
          await search.index.write([toSearchDoc(product)]).catch((err: Error) => ctx.log.warn({ err: err.message }, 'index write-through failed'));
        }
      };

      await withDependencyErrors(app, ctx, (api) => {
        api.get<{ Querystring: ProductQuery }>(
          '/public/search',
          {
            schema: {
              querystring: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  q: { type: 'string', maxLength: 200 },
                  category: productFields.category,
                  minPriceCents: productFields.priceCents,
                  maxPriceCents: productFields.priceCents,
                  inStock: { type: 'boolean' },
                  sort: { type: 'string', enum: [...SORTS] },
                  page: { type: 'integer', minimum: 1, maximum: 500, default: 1 },
                  size: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
                },
              },
            },
          },
          async (req, reply) => {
            const q = req.query;
            if (q.minPriceCents !== undefined && q.maxPriceCents !== undefined && q.minPriceCents > q.maxPriceCents) {
              return replyError(reply, 400, 'bad_request', 'querystring/minPriceCents must not exceed maxPriceCents');
            }
            if ((q.page ?? 1) * (q.size ?? 20) > 10_000) {
              return replyError(reply, 400, 'bad_request', 'querystring/page times size must stay within 10000');
            }
            if (!search.isReady()) throw new NotReadyError('search');
            return search.index.search(q);
          },
        );

        api.get<{ Querystring: { limit: number } }>(
          '/public/products/hot',
          { schema: { querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 10 } } } } },
          async (req) => {
            const ranking = await cache.hot(req.query.limit);
            const byId = new Map((await getProducts(pool(), ranking.map((r) => r.id))).map((p) => [p.id, p]));
            return { products: ranking.filter((r) => byId.has(r.id)).map((r) => ({ ...byId.get(r.id)!, views: r.views })) };
          },
        );

        // Batch read for other services (order's checkout): current price and stock, no caching.
        api.get<{ Querystring: { ids: number[] } }>(
          '/public/products',
          { schema: { querystring: { type: 'object', required: ['ids'], additionalProperties: false, properties: { ids: { type: 'array', items: id, minItems: 1, maxItems: 100 } } } } },
          async (req, reply) => reply.header('cache-control', 'no-cache').send({ products: await getProducts(pool(), [...new Set(req.query.ids)]) }),
        );

        // Stock is on the page: the edge (CloudFront keeps /api/* 10 s by default) must not keep it.
        api.get<{ Params: { id: number } }>('/public/products/:id', { schema: { params: idParams } }, async (req, reply) => {
          const { product, cache: source } = await cache.get(req.params.id, (pid) => getProduct(pool(), pid));
          if (!product) return notFound(reply);
          // The view count is best effort: without Redis the page is still served.
          const views = source === 'bypass' ? null : await cache.recordView(product.id).catch((err: unknown) => {
            if (isRedisUnavailable(err)) return null;
            throw err;
          });
          return reply.header('x-cache', source).header('cache-control', 'no-cache').send({ product: { ...product, views } });
        });

        api.post<{ Body: NewProduct }>(
          '/products',
          {
            schema: {
              body: {
                type: 'object',
                additionalProperties: false,
                required: ['sku', 'name', 'category', 'priceCents', 'stock'],
                properties: { sku: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }, ...productFields },
              },
            },
          },
          async (req, reply) => {
            if (!requireWriter(req, reply)) return reply;
            try {
              const product = await createProduct(pool(), { ...req.body, description: req.body.description ?? '' });
              await changed(product);
              return reply.code(201).send({ product });
            } catch (err) {
              if (err instanceof DuplicateSkuError) return replyError(reply, 409, 'duplicate_sku', err.message);
              throw err;
            }
          },
        );

        api.patch<{ Params: { id: number }; Body: ProductPatch }>(
          '/products/:id',
          { schema: { params: idParams, body: { type: 'object', additionalProperties: false, minProperties: 1, properties: productFields } } },
          async (req, reply) => {
            if (!requireWriter(req, reply)) return reply;
            const product = await updateProduct(pool(), req.params.id, req.body);
            if (!product) return notFound(reply);
            await changed(product);
            return { product };
          },
        );

        api.post<{ Params: { id: number }; Body: { contentType: string; contentLength: number } }>(
          '/products/:id/image-upload',
          {
            schema: {
              params: idParams,
              body: {
                type: 'object',
                additionalProperties: false,
                required: ['contentType', 'contentLength'],
                properties: {
                  contentType: { type: 'string', enum: Object.keys(IMAGE_TYPES) },
                  contentLength: { type: 'integer', minimum: 1, maximum: MAX_IMAGE_BYTES },
                },
              },
            },
          },
          async (req, reply) => {
            if (!requireWriter(req, reply)) return reply;
            if (!(await getProduct(pool(), req.params.id))) return notFound(reply);
            const upload = await uploads.presignImagePut(`products/${req.params.id}`, req.body.contentType, req.body.contentLength);
            return reply.code(201).send({ upload });
          },
        );

        api.post<{ Params: { id: number }; Body: { key: string } }>(
          '/products/:id/image',
          {
            schema: {
              params: idParams,
              body: { type: 'object', additionalProperties: false, required: ['key'], properties: { key: { type: 'string', pattern: '^products/[0-9]+/[0-9a-f-]{36}\\.(jpg|png|webp|gif)$' } } },
            },
          },
          async (req, reply) => {
            if (!requireWriter(req, reply)) return reply;
            if (!req.body.key.startsWith(`products/${req.params.id}/`)) {
              return replyError(reply, 400, 'bad_request', 'body/key must belong to this product');
            }
            const object = await uploads.describe(req.body.key);
            if (!object) return replyError(reply, 409, 'not_uploaded', 'Nothing was uploaded under this key yet');
            if (!(await setImageKey(pool(), req.params.id, req.body.key))) return notFound(reply);
            const product = (await getProduct(pool(), req.params.id))!;
            await changed(product);
            return { product };
          },
        );
      });
    },
    ...overrides,
  });
}

export async function start(): Promise<void> {
  const svc = await createCatalogService();
  svc.handleSignals();
  await svc.start();
}
