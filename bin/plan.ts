#!/usr/bin/env node
/** npm run plan -- -c env=ENV [--compare ENV] [--json]: deploy plan, monthly cost and pictures from cdk.out (see README, "Plan"). */
import { main } from '../lib/plan/cli';

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  console.error(e);
  process.exit(1);
});
