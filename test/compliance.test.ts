import { build, ENVS } from './support/platform';
import { acknowledgementsOf, rulePackFindings } from './support/synth';

// cdk-nag AwsSolutions + AWS Control Tower proactive controls over every stack of every environment.
describe.each(ENVS)('rule packs (%s)', (env) => {
  const { app } = build(env);
  const findings = rulePackFindings(app);

  test('zero unacknowledged findings', () => {
    expect(findings).toEqual([]);
  });

  test('every acknowledgement carries a reason a reviewer can read', () => {
    const acks = acknowledgementsOf(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect([ack.id, ack.reason.length >= 60]).toEqual([ack.id, true]);
    }
  });
});
