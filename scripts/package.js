#!/usr/bin/env node
/**
 * `npm run package [-- OUTDIR]`: the constructs library (lib/constructs/index.ts) as an npm tarball
 * and a Python wheel, side by side in OUTDIR (default dist/package/).
 *
 * jsii compiles a copy of the library sources (tsconfig.jsii.json `include`) in a staging folder
 * outside the work tree, whose node_modules holds the lowest aws-cdk-lib and constructs the peer
 * range allows (the `*-floor` aliases of devDependencies): the compile then fails on any API newer
 * than what both npm and PyPI serve. The work tree gets no compiled files, so the CDK app and its
 * tests keep running the TypeScript sources. jsii-pacmak then packs the npm tarball and builds the
 * Python wheel (and sdist) from the staged assembly.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outdir = path.resolve(process.argv[2] ?? path.join(root, 'dist', 'package'));
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
// jsii refuses Node 20 loudly (end of life); this machine and CI run it, and the build works on it.
const env = { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: process.versions.node.split('.')[0] };

/** `^2.275.0` -> `2.275.0`: the lowest version a caret peer range allows. */
function floorOf(name, range) {
  const m = /^\^(\d+\.\d+\.\d+)$/.exec(range);
  if (!m) throw new Error(`package.json: peerDependencies.${name} must be a caret range like ^2.275.0 (got ${range})`);
  return m[1];
}

/** The devDependency alias (`npm:NAME@FLOOR`) that installs the floor of a peer range. */
function floorAlias(name, floor) {
  const spec = `npm:${name}@${floor}`;
  const alias = Object.keys(manifest.devDependencies).find((k) => manifest.devDependencies[k] === spec);
  if (!alias) throw new Error(`package.json: no devDependency installs ${spec}, the floor of peerDependencies.${name}; add one like "${name}-floor": "${spec}"`);
  return alias;
}

/** Copies a package folder: hard links where the file system allows (fast, no space), else a copy. */
function copyPackage(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    execFileSync('cp', ['-al', from, to], { stdio: 'ignore' });
  } catch {
    fs.rmSync(to, { recursive: true, force: true });
    fs.cpSync(from, to, { recursive: true });
  }
}

/**
 * node_modules of the staging folder: each peer at its floor, each dependency as installed, and
 * what they depend on in turn (bundled dependencies travel inside their package). Each package is
 * copied, not linked, so its own imports resolve inside the staging folder (one aws-cdk-lib, one constructs).
 */
function stageNodeModules(stage) {
  const modules = path.join(stage, 'node_modules');
  const placed = new Map();
  const place = (name, from) => {
    const version = JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8')).version;
    if (placed.has(name)) {
      if (placed.get(name) !== version) throw new Error(`staging: ${name} is needed at ${placed.get(name)} and ${version}`);
      return;
    }
    placed.set(name, version);
    copyPackage(from, path.join(modules, name));
    const pkg = JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8'));
    const bundled = new Set(pkg.bundleDependencies ?? pkg.bundledDependencies ?? []);
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (!bundled.has(dep)) place(dep, path.dirname(require.resolve(`${dep}/package.json`, { paths: [from] })));
    }
  };
  for (const [name, range] of Object.entries(manifest.peerDependencies)) {
    place(name, path.join(root, 'node_modules', floorAlias(name, floorOf(name, range))));
  }
  for (const name of Object.keys(manifest.dependencies)) place(name, path.join(root, 'node_modules', name));
  return placed;
}

/** Library sources: tsconfig.jsii.json's `include` (files, or `dir/*.ts`), README.md for the package page. */
function stageSources(stage) {
  const tsconfig = manifest.jsii.tsconfig;
  const include = JSON.parse(fs.readFileSync(path.join(root, tsconfig), 'utf8')).include;
  const files = include.flatMap((pattern) => {
    if (!pattern.endsWith('/*.ts')) return [pattern];
    const dir = pattern.slice(0, -'/*.ts'.length);
    return fs.readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => `${dir}/${f}`);
  });
  for (const file of [...files, tsconfig, 'README.md']) {
    fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(stage, file));
  }
  // The published manifest: the library's fields; devDependencies are the peer floors (jsii checks them).
  const { scripts, workspaces, devDependencies, ...published } = manifest;
  published.devDependencies = Object.fromEntries(Object.entries(manifest.peerDependencies).map(([n, r]) => [n, floorOf(n, r)]));
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
}

function run(command, args, cwd) {
  execFileSync(path.join(root, 'node_modules', '.bin', command), args, { cwd, env, stdio: 'inherit' });
}

const started = Date.now();
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'constructs-lib-'));
try {
  stageSources(stage);
  const placed = stageNodeModules(stage);
  console.log(`staged ${[...placed].map(([n, v]) => `${n}@${v}`).join(', ')}`);
  run('jsii', ['--fail-on-warnings'], stage);
  // pacmak packs with npm, whose prepack scripts the staged manifest does not carry.
  run('jsii-pacmak', ['--targets', 'js', 'python', '--outdir', path.join(stage, 'dist'), '--no-fingerprint'], stage);
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.mkdirSync(outdir, { recursive: true });
  for (const [target, rename] of [['js', (f) => f.replace(/@(.*)\.jsii\.tgz$/, '-$1.tgz')], ['python', (f) => f]]) {
    for (const file of fs.readdirSync(path.join(stage, 'dist', target))) {
      fs.copyFileSync(path.join(stage, 'dist', target, file), path.join(outdir, rename(file)));
    }
  }
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
for (const file of fs.readdirSync(outdir).sort()) {
  console.log(`${path.relative(process.cwd(), path.join(outdir, file))}  ${(fs.statSync(path.join(outdir, file)).size / 1024).toFixed(0)} KiB`);
}
console.log(`packaged in ${((Date.now() - started) / 1000).toFixed(0)} s`);
