import * as fs from 'fs';
import * as path from 'path';
import { GetProductsCommand, GetProductsCommandInput, PricingClient } from '@aws-sdk/client-pricing';
import { PRICE_TABLE, PriceTable } from './cost';

/** One Price List API call: GetProducts → the PriceList JSON strings. Injected in tests (no AWS call there). */
export type ProductQuery = (input: GetProductsCommandInput) => Promise<string[]>;

const sdkQuery = (): ProductQuery => {
  // The Price List API answers in us-east-1 for every region's prices.
  const client = new PricingClient({ region: 'us-east-1' });
  return async (input) => {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new GetProductsCommand({ ...input, NextToken: token, MaxResults: 100 }));
      out.push(...(page.PriceList ?? []).map(String));
      token = page.NextToken;
    } while (token);
    return out;
  };
};

/** The on-demand USD price of the first product with one, or undefined. */
export function onDemandUsd(priceList: string[]): number | undefined {
  for (const raw of priceList) {
    const product = JSON.parse(raw);
    for (const term of Object.values<any>(product.terms?.OnDemand ?? {})) {
      for (const dim of Object.values<any>(term.priceDimensions ?? {})) {
        const usd = Number(dim.pricePerUnit?.USD);
        if (Number.isFinite(usd) && usd > 0) return usd;
      }
    }
  }
  return undefined;
}

const match = (fields: Record<string, string>) => Object.entries(fields).map(([Field, Value]) => ({ Type: 'TERM_MATCH' as const, Field, Value }));

/** Filters per priced family: instance types of the table's maps, and the gp3 GB-month. */
const QUERIES: { key: 'ec2Hour' | 'rdsMysqlHour' | 'elastiCacheHour' | 'openSearchHour'; service: string; filters: (type: string) => Record<string, string> }[] = [
  { key: 'ec2Hour', service: 'AmazonEC2', filters: (t) => ({ instanceType: t, operatingSystem: 'Linux', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'Used' }) },
  { key: 'rdsMysqlHour', service: 'AmazonRDS', filters: (t) => ({ instanceType: t, databaseEngine: 'MySQL', deploymentOption: 'Single-AZ' }) },
  { key: 'elastiCacheHour', service: 'AmazonElastiCache', filters: (t) => ({ instanceType: t, cacheEngine: 'Redis' }) },
  { key: 'openSearchHour', service: 'AmazonES', filters: (t) => ({ instanceType: t }) },
];

/**
 * Rebuilds the instance-hour and gp3 prices of every region and type in the price table from the
 * AWS Price List API (needs credentials allowed `pricing:GetProducts`) and writes the table with
 * today's date. Figures the API does not return are kept, and listed on stderr.
 */
export async function refreshPrices(file = path.join(__dirname, 'prices.json'), query: ProductQuery = sdkQuery(), table: PriceTable = PRICE_TABLE): Promise<string> {
  const next = JSON.parse(JSON.stringify(table)) as PriceTable;
  const kept: string[] = [];
  for (const [region, prices] of Object.entries(next.regions) as [string, PriceTable['regions']['eu-west-1']][]) {
    for (const q of QUERIES) {
      const map = prices[q.key] as Record<string, number>;
      for (const type of Object.keys(map)) {
        const usd = onDemandUsd(await query({ ServiceCode: q.service, Filters: match({ regionCode: region, ...q.filters(type) }) }));
        if (usd === undefined) kept.push(`${region} ${type}`);
        else map[type] = usd;
      }
    }
    const gp3 = onDemandUsd(await query({ ServiceCode: 'AmazonEC2', Filters: match({ regionCode: region, productFamily: 'Storage', volumeApiName: 'gp3' }) }));
    if (gp3 === undefined) kept.push(`${region} gp3`);
    else prices.ebsGp3GbMonth = gp3;
  }
  (next as { asOf: string }).asOf = new Date().toISOString().slice(0, 10);
  fs.writeFileSync(file, JSON.stringify(next, undefined, 2) + '\n');
  if (kept.length) process.stderr.write(`kept the previous figure (no answer from the Price List API): ${kept.join(', ')}\n`);
  return file;
}
