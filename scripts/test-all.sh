#!/usr/bin/env bash
# The one test command (`npm test`): type-checks, runs the CDK/cdk8s tests, then the services
# tests (whose jest globalSetup starts the local engines through scripts/engines.sh), and ends
# with one line: "tests: N passed, N failed". Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
results=$(mktemp -d)
status=0

log() { printf '\n=== %s\n' "$*"; }

log "type-check (tsc --noEmit)"
npx tsc --noEmit || status=1

log "infrastructure tests (jest: CDK stacks, constructs, rule packs)"
npx jest --ci --json --outputFile="$results/infra.json" || status=1

if [[ -f services/package.json ]]; then
  log "services tests (jest against local etcd, Redis Cluster, MariaDB, OpenSearch, S3-compatible server)"
  npm test --prefix services -- --ci --json --outputFile="$results/services.json" || status=1
fi

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  for (const f of process.argv.slice(1)) {
    if (!fs.existsSync(f)) { failed += 1; console.log(`(no results from ${f}: the run did not finish)`); continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
  }
  console.log(`tests: ${passed} passed, ${failed} failed`);
' "$results/infra.json" $([[ -f services/package.json ]] && echo "$results/services.json")
rm -rf "$results"
exit $status
