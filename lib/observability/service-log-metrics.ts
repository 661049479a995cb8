import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ServiceLogMetricsProps {
  /** The Container Insights application log group (Fluent Bit of amazon-cloudwatch-observability). */
  readonly logGroup: logs.ILogGroup;
  /** CloudWatch namespace of the metrics. */
  readonly namespace: string;
}

/**
 * Per-service request metrics from the services' access log: the kit writes one pino JSON line per
 * request (`msg: "request"`, `service`, `status`, `ms`; services/src/kit/service.ts) and the
 * add-on's Fluent Bit parses it into `log_processed` (kubernetes filter, Merge_Log_Key). Three
 * metric filters, each with the `service` dimension taken from the line: Requests, Errors5xx and
 * LatencyMs. No agent, no scrape; costs the filters' custom metrics.
 */
export class ServiceLogMetrics extends Construct {
  readonly requestsFilter: logs.MetricFilter;
  readonly errorsFilter: logs.MetricFilter;
  readonly latencyFilter: logs.MetricFilter;
  private readonly namespace: string;

  constructor(scope: Construct, id: string, props: ServiceLogMetricsProps) {
    super(scope, id);
    this.namespace = props.namespace;
    const line = '$.log_processed.msg = "request"';
    const filter = (name: string, pattern: string, metricValue: string, unit: cloudwatch.Unit) => new logs.MetricFilter(this, name, {
      logGroup: props.logGroup,
      filterPattern: logs.FilterPattern.literal(`{ ${pattern} }`),
      metricNamespace: props.namespace,
      metricName: name,
      metricValue,
      dimensions: { service: '$.log_processed.service' },
      unit,
    });
    this.requestsFilter = filter('Requests', line, '1', cloudwatch.Unit.COUNT);
    this.errorsFilter = filter('Errors5xx', `${line} && $.log_processed.status >= 500`, '1', cloudwatch.Unit.COUNT);
    this.latencyFilter = filter('LatencyMs', line, '$.log_processed.ms', cloudwatch.Unit.MILLISECONDS);
  }

  /** Requests a service answered (sum per period). */
  requests(service: string, period = Duration.minutes(5)): cloudwatch.Metric {
    return this.metric('Requests', service, 'Sum', period);
  }

  /** Requests a service answered with 5xx (sum per period). */
  errors(service: string, period = Duration.minutes(5)): cloudwatch.Metric {
    return this.metric('Errors5xx', service, 'Sum', period);
  }

  /** A service's time to answer, in ms, at `statistic` (p50, p99, Average ...). */
  latency(service: string, statistic: string, period = Duration.minutes(5)): cloudwatch.Metric {
    return this.metric('LatencyMs', service, statistic, period);
  }

  private metric(metricName: string, service: string, statistic: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: this.namespace, metricName, dimensionsMap: { service }, statistic, period, label: `${service} ${metricName} ${statistic}` });
  }
}
