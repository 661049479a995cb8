/**
 * Every service of the image, by the name `SERVICE` selects. A module is imported only when
 * selected, so one service never loads another's dependencies.
 *
 * To add a service: one line, `name: () => import('./name'),` where `./name/index.ts` exports
 * `start(): Promise<unknown>` (build it with `createService` from `./kit`).
 */
export interface ServiceModule {
  start(): Promise<unknown>;
}

export const entries: Record<string, () => Promise<ServiceModule>> = {
  gateway: () => import('./gateway'),
  echo: () => import('./echo'),
  user: () => import('./user'),
  catalog: () => import('./catalog'),
  order: () => import('./order'),
  'order-timeout': () => import('./jobs/order-timeout'),
  'search-sync': () => import('./jobs/search-sync'),
  smoke: () => import('./smoke'),
  loadgen: () => import('./smoke/loadgen'),
};
