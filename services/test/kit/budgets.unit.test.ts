import { DEFAULT_BUDGETS, budgets, kitSpec } from '../../src/kit/config';
import { orderSpec } from '../../src/order/env';
import { checkServiceEnv } from '../../src/specs';

test('the default timeouts nest: every wait in a service < its request budget < the gateway\'s upstream deadline', () => {
  const b = budgets(DEFAULT_BUDGETS.serviceRequestMs);
  expect(kitSpec.REQUEST_BUDGET_MS.parse(undefined)).toBe(DEFAULT_BUDGETS.serviceRequestMs);
  expect(kitSpec.CLIENT_TIMEOUT_MS.parse(undefined)).toBe(DEFAULT_BUDGETS.gatewayUpstreamMs);
  expect(b.requestMs).toBeLessThan(DEFAULT_BUDGETS.gatewayUpstreamMs);
  for (const wait of [b.redisWaitMs, b.mysqlQueryMs, b.mysqlAcquireMs, b.mysqlConnectMs, b.lockWaitMs, b.callMs, b.readinessCheckMs]) {
    expect(wait).toBeLessThan(b.requestMs);
  }
  // A statement's bound covers getting a connection first.
  expect(b.mysqlAcquireMs + b.mysqlQueryMs).toBeLessThan(b.requestMs);
  expect(orderSpec.CHECKOUT_LOCK_WAIT_MS.parse(undefined)).toBe(b.lockWaitMs);
  expect(b).toEqual({ requestMs: 4000, redisWaitMs: 3000, mysqlAcquireMs: 1000, mysqlConnectMs: 1000, mysqlQueryMs: 2000, lockWaitMs: 2000, callMs: 1500, readinessCheckMs: 1000 });
});

test('a lock wait configured at or above the request budget is refused at start', () => {
  expect(checkServiceEnv('order', { CHECKOUT_LOCK_WAIT_MS: '4000' })).toEqual(['CHECKOUT_LOCK_WAIT_MS must be below REQUEST_BUDGET_MS (4000) (got "4000")']);
  expect(checkServiceEnv('order', { CHECKOUT_LOCK_WAIT_MS: '4000', REQUEST_BUDGET_MS: '4500' })).toEqual([]);
});
