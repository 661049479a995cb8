import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

// The alarm plumbing every construct shares. Not exported from index.ts: the constructs expose
// their `alarms` (cloudwatch.Alarm[]) and take `alarms` / `alarmTopic` / `alarmThresholds` props.

/** One alarm a construct creates: the metric, when it fires, and what the operator reads. */
export interface AlarmSpec {
  /** Construct id of the alarm, under the construct's `Alarms` scope. */
  readonly id: string;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  /** GREATER_THAN_OR_EQUAL_TO_THRESHOLD, LESS_THAN_THRESHOLD, ... */
  readonly comparison: cloudwatch.ComparisonOperator;
  /** Periods looked at (default 1). */
  readonly evaluationPeriods?: number;
  /** Breaching periods among them that fire it (default evaluationPeriods). */
  readonly datapointsToAlarm?: number;
  /** Missing data: no datapoint usually means nothing happened (default NOT_BREACHING). */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
  /** What it means and the first thing to check (the alarm description). */
  readonly description: string;
}

/** Props every construct's alarms come from. */
export interface AlarmSettings {
  /** false: no alarm at all. */
  readonly enabled: boolean;
  /** Every alarm (and its OK) notifies this topic. */
  readonly topic?: sns.ITopic;
}

/** A metric's statistic and period, in one call (the metric factories default to 5 minutes). */
export function over(metric: cloudwatch.IMetric, statistic: string, period: Duration): cloudwatch.IMetric {
  return metric instanceof cloudwatch.Metric ? metric.with({ statistic, period }) : metric;
}

/**
 * Creates the alarms under `scope/Alarms` (nothing when settings.enabled is false), each with an
 * alarm and OK action to the topic when there is one.
 */
export function createAlarms(scope: Construct, settings: AlarmSettings, specs: AlarmSpec[]): cloudwatch.Alarm[] {
  if (!settings.enabled || specs.length === 0) return [];
  const parent = (scope.node.tryFindChild('Alarms') as Construct | undefined) ?? new Construct(scope, 'Alarms');
  const action = settings.topic ? new cloudwatchActions.SnsAction(settings.topic) : undefined;
  return specs.map((spec) => {
    const evaluationPeriods = spec.evaluationPeriods ?? 1;
    const alarm = new cloudwatch.Alarm(parent, spec.id, {
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: spec.comparison,
      evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm ?? evaluationPeriods,
      treatMissingData: spec.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: spec.description,
    });
    if (action) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    return alarm;
  });
}

export const GTE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
export const GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
export const LT = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD;
export const LTE = cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD;
