/** Stream names and event types shared by the order and catalog services and search-sync. */
export const ORDER_STREAM = 'stream:orders';
export const PRODUCT_STREAM = 'stream:products';

export interface StockEventData {
  orderId?: number;
  productId?: number;
  items?: { productId: number; quantity: number }[];
}

/** Product ids an event touches: search-sync re-reads these rows and reindexes them. */
export function productIdsOf(data: unknown): number[] {
  const d = (data ?? {}) as StockEventData;
  const ids = new Set<number>();
  if (typeof d.productId === 'number') ids.add(d.productId);
  for (const item of d.items ?? []) if (typeof item?.productId === 'number') ids.add(item.productId);
  return [...ids];
}
