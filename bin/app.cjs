#!/usr/bin/env node
/**
 * The CDK app as cdk.json runs it: `node bin/app.cjs` (no npx, no ts-node). Each TypeScript file is
 * transpiled once, as `ts-node --transpile-only` would, and cached by content under
 * node_modules/.cache/platform-app; a synth with a warm cache loads plain JS and never loads the
 * TypeScript compiler. Type checking stays with `tsc --noEmit` (npm test).
 * Usage: node bin/app.cjs [entry.ts]   (default bin/platform.ts)
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const Module = require('module');
const path = require('path');

const root = path.resolve(__dirname, '..');
const cacheDir = path.join(root, 'node_modules', '.cache', 'platform-app');
const compilerOptions = { module: 'commonjs', target: 'es2022', esModuleInterop: true, resolveJsonModule: true, experimentalDecorators: true, sourceMap: false, inlineSourceMap: false };
let ts; // loaded on the first cache miss only
let salt;

function transpile(source, filename) {
  ts ??= require('typescript');
  return ts.transpileModule(source, { compilerOptions, fileName: filename, reportDiagnostics: false }).outputText;
}

function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  salt ??= JSON.stringify(compilerOptions) + require('typescript/package.json').version;
  const key = crypto.createHash('sha1').update(salt).update('\0').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let js;
  try {
    js = fs.readFileSync(cached, 'utf8');
  } catch {
    js = transpile(source, filename);
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      const tmp = `${cached}.${process.pid}`;
      fs.writeFileSync(tmp, js);
      fs.renameSync(tmp, cached); // atomic: parallel synths never read half a file
    } catch {
      // A read-only tree still runs, only slower.
    }
  }
  module._compile(js, filename);
}

/** Loads a TypeScript entry of this repository with the cached transpiler. */
function run(entry = path.join('bin', 'platform.ts')) {
  if (!Module._extensions['.ts']) {
    // Prefer .ts over a stale compiled .js beside it (what ts-node --prefer-ts-exts did).
    const jsLoader = Module._extensions['.js'];
    delete Module._extensions['.js'];
    Module._extensions['.ts'] = compileTs;
    Module._extensions['.js'] = jsLoader;
  }
  return require(path.resolve(root, entry));
}

module.exports = { run };
if (require.main === module) run(process.argv[2]);
