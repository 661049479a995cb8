import { createGateway } from './app';

export { createGateway, gatewaySpec } from './app';

/** `SERVICE=gateway`: the API gateway. */
export async function start(): Promise<void> {
  const gateway = await createGateway();
  gateway.handleSignals();
  await gateway.start();
}
