/**
 * Runs jest on the Node.js release the image runs, whichever node started npm: `npm test`,
 * `npm run test:unit` and `npm run test:integration` go through here; the arguments go to jest.
 *
 * The binary is the npm package node-<platform>-<arch> (an optionalDependency of
 * services/package.json pinned to the version of NODE_IMAGE in services/Dockerfile; it installs on
 * linux-x64 and linux-arm64 and is skipped elsewhere). Without it jest runs on the current node,
 * with a warning. Either way the first line says which Node runs the tests; child processes the
 * tests start (services, jobs) use the same binary (process.execPath).
 */
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const { dirname, join } = require('node:path');

const services = join(__dirname, '..', '..');
const pkg = require(join(services, 'package.json'));
const name = `node-${process.platform}-${process.arch}`;
const pinned = (pkg.optionalDependencies || {})[name];

let node = process.execPath;
let origin = `this machine's node: ${pinned ? `${name}@${pinned} is not installed (run npm ci at the repository root)` : `no pinned Node for ${process.platform}-${process.arch}`}`;
try {
  const manifest = require.resolve(`${name}/package.json`, { paths: [services] });
  const { version } = require(manifest);
  node = join(dirname(manifest), 'bin', 'node');
  origin = `${name}@${version}${pinned && version !== pinned ? `, but ${pinned} is pinned: run npm ci at the repository root` : ''}`;
} catch {
  // Not installed (another platform, or --omit=optional): the current node.
}

const version = execFileSync(node, ['-p', 'process.version']).toString().trim();
process.stderr.write(`services tests: Node ${version} (${origin})\n`);

const jest = require.resolve('jest/bin/jest', { paths: [services] });
const child = spawn(node, [jest, ...process.argv.slice(2)], { cwd: services, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
