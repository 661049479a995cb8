/**
 * Prints, per environment, the unacknowledged rule-pack findings (should be none) and the
 * acknowledgements per rule pack: `npx ts-node --transpile-only bench/rule-packs.ts [env...]`.
 */
import { build, ENVS } from '../test/support/platform';
import { acknowledgementsOf, rulePackFindings } from '../test/support/synth';

const envs = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [...ENVS];
for (const env of envs) {
  const { app } = build(env);
  const findings = rulePackFindings(app);
  const acks = acknowledgementsOf(app);
  const byPack: Record<string, { total: number; rules: Set<string> }> = {};
  for (const a of acks) {
    const entry = (byPack[a.pack] ??= { total: 0, rules: new Set() });
    entry.total += 1;
    entry.rules.add(a.id.replace(/\[.*\]$/, ''));
  }
  console.log(`${env}: ${findings.length} unacknowledged findings`);
  for (const f of findings) console.log(`  FINDING ${f.pack} ${f.rule} ${f.path} -- ${f.description.slice(0, 160)}`);
  if (process.env.VERBOSE) for (const a of acks) console.log(`  ACK ${a.pack} ${a.id} ${a.path}`);
  for (const [pack, { total, rules }] of Object.entries(byPack).sort()) {
    console.log(`  ${pack}: ${total} acknowledgements of ${rules.size} rules (${[...rules].sort().join(', ')})`);
  }
}
