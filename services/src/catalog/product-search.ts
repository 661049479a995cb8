/**
 * The product search index on OpenSearch: mapping and analyzers, versioned (idempotent) writes,
 * search with filters, sort and pagination, and a full reindex into a fresh index followed by an
 * atomic alias swap, so searches never see a half-built index.
 *
 * Every write carries `version_type: external` with the row's version (products.version +
 * stock.version, both only ever increase): a redelivered or stale event is rejected by OpenSearch
 * as a version conflict, which is how a stream consumer applies each change at most once.
 */
import type { ServiceContext } from '../kit';
import { loadConfig } from '../kit/config';
import { startupTask } from '../kit/startup-task';
import { createOpenSearchClient, type OpenSearchClient } from '../data/opensearch';
import { searchIndexEnv } from '../data/settings';

export interface ProductDoc {
  id: number;
  sku: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
  stock: number;
  inStock: boolean;
  imageKey: string | null;
  createdAt: string;
  /** Monotonic per product; the external version of the document. */
  version: number;
}

/**
 * Index settings and mapping. `full` uses the analysis-common filters every AWS OpenSearch domain
 * has (stemming, accent folding); the local integ-test distribution ships without that module,
 * so there the same fields get core-only analysis (standard tokens, lowercase, stop words).
 */
export function productIndexBody(full: boolean) {
  const textFilters = full ? ['lowercase', 'asciifolding', 'english_stop', 'english_stemmer'] : ['lowercase', 'english_stop'];
  return {
    settings: {
      number_of_shards: 1,
      analysis: {
        filter: {
          english_stop: { type: 'stop', stopwords: '_english_' },
          ...(full ? { english_stemmer: { type: 'stemmer', language: 'light_english' } } : {}),
        },
        analyzer: {
          // full: "Running Shoes" matches "run shoe", and "creme" finds "crème".
          product_text: { type: 'custom', tokenizer: 'standard', filter: textFilters },
        },
        normalizer: {
          folded: { type: 'custom', filter: full ? ['lowercase', 'asciifolding'] : ['lowercase'] },
        },
      },
    },
    mappings: {
      dynamic: 'strict',
      properties: {
        id: { type: 'long' },
        sku: { type: 'keyword' },
        name: { type: 'text', analyzer: 'product_text', fields: { sort: { type: 'keyword', normalizer: 'folded' } } },
        description: { type: 'text', analyzer: 'product_text' },
        category: { type: 'keyword', normalizer: 'folded' },
        priceCents: { type: 'integer' },
        stock: { type: 'integer' },
        inStock: { type: 'boolean' },
        imageKey: { type: 'keyword', index: false },
        createdAt: { type: 'date' },
        version: { type: 'long' },
      },
    },
  };
}

export const SORTS = ['relevance', 'price_asc', 'price_desc', 'newest', 'name'] as const;
export type ProductSort = (typeof SORTS)[number];

export interface ProductQuery {
  q?: string;
  category?: string;
  minPriceCents?: number;
  maxPriceCents?: number;
  inStock?: boolean;
  sort?: ProductSort;
  page?: number;
  size?: number;
}

export interface ProductPage {
  total: number;
  page: number;
  size: number;
  items: ProductDoc[];
}

export interface WriteResult {
  applied: number;
  /** Already at this version or newer: a redelivered or reordered event. */
  stale: number;
  deleted: number;
}

/** OpenSearch answers from+size beyond this with an error; deeper paging needs search_after. */
export const MAX_WINDOW = 10_000;

type Body = Record<string, unknown>;

export class ProductSearchIndex {
  constructor(
    private readonly client: OpenSearchClient,
    /** The alias searched and written; concrete indices are `<alias>-<timestamp>`. */
    readonly alias = 'products',
  ) {}

  /**
   * Creates a first index behind the alias when there is none (a fresh environment). Its name is
   * fixed, so instances starting together create one index, not one each under the same alias.
   */
  async ensure(): Promise<void> {
    const exists = await this.client.indices.existsAlias({ name: this.alias });
    if (exists.body) return;
    const index = `${this.alias}-initial`;
    try {
      await this.createIndex(index);
    } catch (err) {
      if ((err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body?.error?.type !== 'resource_already_exists_exception') throw err;
    }
    await this.client.indices.updateAliases({ body: { actions: [{ add: { index, alias: this.alias } }] } });
  }

  async write(docs: readonly ProductDoc[], deletedIds: readonly number[] = [], index = this.alias): Promise<WriteResult> {
    const result: WriteResult = { applied: 0, stale: 0, deleted: 0 };
    if (docs.length === 0 && deletedIds.length === 0) return result;
    const body: Body[] = [];
    for (const d of docs) {
      body.push({ index: { _index: index, _id: String(d.id), version: d.version, version_type: 'external' } });
      body.push({ ...d });
    }
    for (const id of deletedIds) body.push({ delete: { _index: index, _id: String(id) } });
    const res = await this.client.bulk({ body: body as never });
    const items = (res.body as { items: Record<string, { status: number; error?: { type: string; reason?: string } }>[] }).items;
    const failures: string[] = [];
    for (const item of items) {
      const [op, r] = Object.entries(item)[0];
      if (op === 'delete') {
        if (r.status < 300 || r.status === 404) result.deleted++;
        else failures.push(`${op}: ${r.error?.type} ${r.error?.reason ?? ''}`);
      } else if (r.status < 300) result.applied++;
      else if (r.status === 409) result.stale++;
      else failures.push(`${op}: ${r.error?.type} ${r.error?.reason ?? ''}`);
    }
    if (failures.length > 0) throw new Error(`bulk write to ${index} failed: ${failures.slice(0, 3).join('; ')}`);
    return result;
  }

  async refresh(): Promise<void> {
    await this.client.indices.refresh({ index: this.alias });
  }

  async search(query: ProductQuery): Promise<ProductPage> {
    const page = Math.max(1, query.page ?? 1);
    const size = Math.min(100, Math.max(1, query.size ?? 20));
    const from = (page - 1) * size;
    if (from + size > MAX_WINDOW) throw new RangeError(`page * size must stay within ${MAX_WINDOW}`);
    const filter: Body[] = [];
    if (query.category) filter.push({ term: { category: query.category } });
    if (query.minPriceCents !== undefined || query.maxPriceCents !== undefined) {
      filter.push({ range: { priceCents: { gte: query.minPriceCents, lte: query.maxPriceCents } } });
    }
    if (query.inStock !== undefined) filter.push({ term: { inStock: query.inStock } });
    // Every word must match (typos tolerated), or the words so far are a prefix of the name
    // (search as you type).
    const must: Body[] = query.q
      ? [
          {
            bool: {
              should: [
                { multi_match: { query: query.q, fields: ['name^3', 'description'], type: 'most_fields', operator: 'and', fuzziness: 'AUTO', prefix_length: 1 } },
                { match_bool_prefix: { name: { query: query.q, operator: 'and', boost: 2 } } },
              ],
              minimum_should_match: 1,
            },
          },
        ]
      : [{ match_all: {} }];
    const sortBy: Record<ProductSort, Body[]> = {
      relevance: [{ _score: 'desc' }, { id: 'asc' }],
      price_asc: [{ priceCents: 'asc' }, { id: 'asc' }],
      price_desc: [{ priceCents: 'desc' }, { id: 'asc' }],
      newest: [{ createdAt: 'desc' }, { id: 'desc' }],
      name: [{ 'name.sort': 'asc' }, { id: 'asc' }],
    };
    const res = await this.client.search({
      index: this.alias,
      body: {
        from,
        size,
        track_total_hits: true,
        query: { bool: { must, filter } },
        sort: sortBy[query.sort ?? (query.q ? 'relevance' : 'newest')],
      } as never,
    });
    const hits = res.body.hits;
    const total = typeof hits.total === 'number' ? hits.total : (hits.total?.value ?? 0);
    return { total, page, size, items: hits.hits.map((h) => h._source as ProductDoc) };
  }

  /**
   * Full rebuild: a new index, filled from `source`, refreshed, then swapped in for the alias in
   * one atomic `_aliases` call; the old indices are deleted afterwards. `catchUp` runs after the
   * swap for rows changed during the build (their writes went to the old index).
   */
  async reindex(source: AsyncIterable<ProductDoc[]>, catchUp?: () => AsyncIterable<ProductDoc[]>): Promise<{ index: string; count: number }> {
    const index = this.newIndexName();
    await this.createIndex(index, true);
    let count = 0;
    try {
      for await (const docs of source) count += (await this.write(docs, [], index)).applied;
      await this.client.indices.refresh({ index });
      await this.client.indices.putSettings({ index, body: { index: { refresh_interval: '1s' } } as never });
    } catch (err) {
      await this.client.indices.delete({ index }).catch(() => undefined);
      throw err;
    }
    const current = await this.indicesBehindAlias();
    await this.client.indices.updateAliases({
      body: {
        actions: [
          ...current.map((old) => ({ remove: { index: old, alias: this.alias } })),
          { add: { index, alias: this.alias } },
        ],
      },
    });
    if (catchUp) for await (const docs of catchUp()) await this.write(docs);
    for (const old of current) await this.client.indices.delete({ index: old }).catch(() => undefined);
    return { index, count };
  }

  async indicesBehindAlias(): Promise<string[]> {
    const exists = await this.client.indices.existsAlias({ name: this.alias });
    if (!exists.body) return [];
    const res = await this.client.indices.getAlias({ name: this.alias });
    return Object.keys(res.body);
  }

  private fullAnalysis?: boolean;

  /** Whether the cluster has the analysis-common filters (every AWS domain does). */
  async hasFullAnalysis(): Promise<boolean> {
    if (this.fullAnalysis === undefined) {
      try {
        await this.client.indices.analyze({ body: { tokenizer: 'standard', filter: ['asciifolding'], text: 'crème' } });
        this.fullAnalysis = true;
      } catch (err) {
        if ((err as { meta?: { statusCode?: number } }).meta?.statusCode !== 400) throw err;
        this.fullAnalysis = false;
      }
    }
    return this.fullAnalysis;
  }

  private async createIndex(index: string, bulkLoad = false): Promise<void> {
    const body = productIndexBody(await this.hasFullAnalysis()) as { settings: Body };
    // No refresh while bulk loading: faster; reindex() turns it back on before the swap.
    if (bulkLoad) body.settings.refresh_interval = '-1';
    await this.client.indices.create({ index, body: body as never });
  }

  private newIndexName(): string {
    const stamp = new Date().toISOString().replace(/[-:.TZ]/g, '').toLowerCase();
    return `${this.alias}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
  }
}

export interface SearchHandle {
  readonly index: ProductSearchIndex;
  isReady(): boolean;
}

/** The product search index; its alias is created in the background if the cluster is fresh. */
export function connectSearch(ctx: ServiceContext, source: NodeJS.ProcessEnv = process.env): SearchHandle {
  const client = createOpenSearchClient(source);
  const index = new ProductSearchIndex(client, loadConfig(searchIndexEnv, source).SEARCH_INDEX_ALIAS);
  // Not a readiness check: with search down the rest of the service still works (search -> 503).
  const task = startupTask(ctx, 'search index', () => index.ensure());
  ctx.shutdown.onClose('opensearch', async () => {
    task.stop();
    await client.close();
  });
  return { index, isReady: task.done };
}
