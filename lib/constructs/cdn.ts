import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge, controlTower } from '../compliance';
import { AlarmSpec, createAlarms, GT, over } from './alarms';

/** Cookies the ALB sets for stickiness: lb_cookie (AWSALB, AWSALBCORS) and app_cookie (AWSALBAPP-0..3). */
export const ALB_STICKINESS_COOKIES = ['AWSALB', 'AWSALBCORS', 'AWSALBAPP-0', 'AWSALBAPP-1', 'AWSALBAPP-2', 'AWSALBAPP-3'];

/**
 * Viewer headers the API origin receives. `Authorization` is not here: CloudFront only forwards it
 * through the cache policy (it is in the API cache key). `Accept-Encoding` is handled by gzip/brotli.
 */
export const API_FORWARDED_HEADERS = [
  'Accept',
  'Accept-Language',
  'Content-Type',
  'Origin',
  'Referer',
  'User-Agent',
  'X-Request-Id',
  'CloudFront-Viewer-Address',
  'CloudFront-Forwarded-Proto',
];

/** Where `/api/*` goes: an internal Application Load Balancer, reached through a CloudFront VPC origin. */
export interface CdnApiOriginProps {
  /** The load balancer (internal, in private subnets of a VPC with an internet gateway). */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /**
   * Protocol CloudFront uses to the load balancer (HTTPS on 443 or HTTP on 80).
   * @default cloudfront.OriginProtocolPolicy.HTTPS_ONLY
   */
  readonly protocolPolicy?: cloudfront.OriginProtocolPolicy;
  /**
   * Forward the viewer's Host header. With HTTPS, CloudFront then checks the load balancer's
   * certificate against the viewer's domain (which that certificate covers) instead of the load
   * balancer's DNS name, which no public certificate can cover. Needs `domainNames`.
   * @default - true when protocolPolicy is HTTPS_ONLY, else false
   */
  readonly forwardHostHeader?: boolean;
  /**
   * How long CloudFront waits for the load balancer's answer (1 to 60 s; more needs a quota
   * increase). Keep it above the load balancer's idle timeout, so the innermost layer answers.
   * @default Duration.seconds(30)
   */
  readonly readTimeout?: Duration;
}

/** When the CloudFront alarms fire (periods of 5 minutes). */
export interface CdnAlarmThresholds {
  /**
   * 5xxErrorRate (average, % of all requests) above this for 3 periods.
   * @default 5
   */
  readonly errorRate5xxPercent?: number;
  /**
   * OriginLatency (average; an additional metric) above this for 3 periods.
   * @default Duration.millis(1500)
   */
  readonly originLatency?: Duration;
}

export interface CdnAlarmsProps {
  /** The distribution watched. */
  readonly distribution: cloudfront.IDistribution;
  /**
   * Alarm on OriginLatency too; the distribution must publish additional metrics.
   * @default true
   */
  readonly originLatency?: boolean;
  /**
   * Topic every alarm notifies (alarm and OK); in the alarms' region (us-east-1).
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * When the alarms fire.
   * @default - the defaults of each CdnAlarmThresholds field
   */
  readonly alarmThresholds?: CdnAlarmThresholds;
}

/**
 * Alarms of a CloudFront distribution: 5xx error rate and origin latency. CloudFront publishes its
 * metrics in us-east-1 only and an alarm watches metrics of its own region, so this construct
 * belongs in a us-east-1 stack (`Cdn` creates it itself when its stack is there).
 */
export class CdnAlarms extends Construct {
  /** The CloudWatch alarms. */
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: CdnAlarmsProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region) && region !== 'us-east-1') {
      throw new Error(`CdnAlarms: CloudFront publishes its metrics in us-east-1 only, but stack ${Stack.of(this).stackName} is in ${region}; put CdnAlarms in a us-east-1 stack`);
    }
    const t = props.alarmThresholds ?? {};
    const metric = (name: string, statistic: string) => over(new cloudwatch.Metric({
      namespace: 'AWS/CloudFront', metricName: name, dimensionsMap: { DistributionId: props.distribution.distributionId, Region: 'Global' },
    }), statistic, Duration.minutes(5));
    const errorRate = t.errorRate5xxPercent ?? 5;
    const latency = t.originLatency ?? Duration.millis(1500);
    const specs: AlarmSpec[] = [
      { id: 'ErrorRate5xx', metric: metric('5xxErrorRate', 'Average'), threshold: errorRate, comparison: GT, evaluationPeriods: 3,
        description: `CloudFront ${this.node.path}: more than ${errorRate} % of requests answered 5xx for 15 min. Check the ALB's 5xx alarms (origin errors) and the distribution's 502/504 (VPC origin unreachable or timed out).` },
    ];
    if (props.originLatency ?? true) {
      specs.push({ id: 'OriginLatency', metric: metric('OriginLatency', 'Average'), threshold: latency.toMilliseconds(), comparison: GT, evaluationPeriods: 3,
        description: `CloudFront ${this.node.path}: average origin latency above ${latency.toMilliseconds()} ms for 15 min. Check the ALB's p99 target response time and the services' latency rows.` });
    }
    this.alarms = createAlarms(this, { enabled: true, topic: props.alarmTopic }, specs);
  }
}

export interface CdnProps {
  /** Bucket with the static site (default behavior), read through Origin Access Control. */
  readonly staticAssetsBucket: s3.IBucket;
  /**
   * Default TTL of static assets (versioned URLs; send `Cache-Control: no-cache` for index.html).
   * @default Duration.days(30)
   */
  readonly staticAssetsTtl?: Duration;
  /**
   * Serve /index.html for paths without a file extension (client-side routes), through a
   * CloudFront Function on the default behavior only, so `/api/*` errors stay as they are.
   * @default true
   */
  readonly spaFallback?: boolean;
  /**
   * The API origin for `apiPathPattern`.
   * @default - no API behavior
   */
  readonly apiOrigin?: CdnApiOriginProps;
  /**
   * Path pattern routed to the API origin.
   * @default '/api/*'
   */
  readonly apiPathPattern?: string;
  /**
   * Default TTL of API responses without Cache-Control (origin Cache-Control wins, min TTL is 0).
   * @default Duration.seconds(10)
   */
  readonly apiDefaultTtl?: Duration;
  /**
   * Longest an API response may stay cached, whatever its Cache-Control says.
   * @default Duration.hours(1)
   */
  readonly apiMaxTtl?: Duration;
  /**
   * Application cookies forwarded to the API origin (the session cookie, an `app_cookie` stickiness
   * cookie), never part of the cache key. The load balancer's own stickiness cookies
   * (`ALB_STICKINESS_COOKIES`) are always forwarded.
   * @default [] - only the load balancer's stickiness cookies
   */
  readonly applicationCookies?: string[];
  /** Bucket for CloudFront standard logs (ACLs enabled, not KMS-encrypted). */
  readonly logBucket: s3.IBucket;
  /**
   * Key prefix of the access logs.
   * @default 'cloudfront/'
   */
  readonly logFilePrefix?: string;
  /**
   * ARN of a WAFv2 web ACL with CLOUDFRONT scope (created in us-east-1).
   * @default - no web ACL
   */
  readonly webAclArn?: string;
  /**
   * Price class (edge locations used).
   * @default cloudfront.PriceClass.PRICE_CLASS_100
   */
  readonly priceClass?: cloudfront.PriceClass;
  /**
   * Alternate domain names, e.g. `['www.example.com']`. Needs `certificate`.
   * @default - the distribution's *.cloudfront.net name only
   */
  readonly domainNames?: string[];
  /**
   * ACM certificate in us-east-1 covering `domainNames`.
   * @default - the default *.cloudfront.net certificate (CloudFront then allows TLSv1 for viewers)
   */
  readonly certificate?: acm.ICertificate;
  /**
   * Content-Security-Policy header for every response.
   * @default - no CSP header (the site knows its own sources)
   */
  readonly contentSecurityPolicy?: string;
  /**
   * Description of the distribution.
   * @default - none
   */
  readonly comment?: string;
  /**
   * Publish CloudFront's additional metrics (origin latency, error rates per status code; a monthly
   * charge per distribution), which the origin latency alarm needs.
   * @default true
   */
  readonly additionalMetrics?: boolean;
  /**
   * CloudWatch alarms (CdnAlarms: 5xx error rate, origin latency). CloudFront's metrics exist in
   * us-east-1 only: the alarms are created when this stack is in us-east-1 (or region-agnostic);
   * elsewhere set false and put a `CdnAlarms` in a us-east-1 stack (a warning says so otherwise).
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * Topic every alarm notifies (alarm and OK).
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * When the alarms fire.
   * @default - the defaults of each CdnAlarmThresholds field
   */
  readonly alarmThresholds?: CdnAlarmThresholds;
}

/** Rewrites extension-less paths to the app shell; viewer-request, default behavior only. */
const SPA_REWRITE = `function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last === '' || last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}`;

/**
 * A CloudFront distribution for a static site in S3 (Origin Access Control, long cache) with an
 * API behavior to an internal load balancer through a VPC origin (short cache, origin Cache-Control
 * honoured, stickiness and application cookies forwarded but never in the cache key), security
 * response headers, HTTP/2 and 3, TLS 1.2+ with a custom certificate, access logs, and an optional
 * WAF web ACL.
 *
 * Responses that set cookies must not be cached: CloudFront caches Set-Cookie with the object, so
 * the API origin sends `Cache-Control: no-store` (or `private`) on every response that sets a
 * cookie or depends on the session; with a minimum TTL of 0 CloudFront never stores those. The
 * default TTL only applies to responses without Cache-Control.
 */
export class Cdn extends Construct {
  /** The distribution. */
  readonly distribution: cloudfront.Distribution;
  /** Origin Access Control for the static-assets bucket. */
  readonly originAccessControl: cloudfront.S3OriginAccessControl;
  /** Cache policy of the static site: long TTL, nothing in the key but the path, gzip + brotli. */
  readonly staticCachePolicy: cloudfront.CachePolicy;
  /** Security headers added to every response. */
  readonly responseHeadersPolicy: cloudfront.ResponseHeadersPolicy;
  /** SPA rewrite on the default behavior (undefined when spaFallback is false). */
  readonly spaRewriteFunction?: cloudfront.Function;
  /** Cache policy of the API behavior (undefined without apiOrigin). */
  readonly apiCachePolicy?: cloudfront.CachePolicy;
  /** Origin request policy of the API behavior (undefined without apiOrigin). */
  readonly apiOriginRequestPolicy?: cloudfront.OriginRequestPolicy;
  /** The VPC origin of the API load balancer (undefined without apiOrigin). */
  readonly apiVpcOrigin?: cloudfront.VpcOrigin;
  /** The CloudWatch alarms (empty with `alarms: false` or outside us-east-1). */
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: CdnProps) {
    super(scope, id);
    const domainNames = props.domainNames ?? [];
    if ((domainNames.length > 0) !== (props.certificate !== undefined)) {
      throw new Error('Cdn: domainNames and certificate go together (a custom name needs a us-east-1 ACM certificate covering it, and a certificate needs the names it serves)');
    }
    const api = props.apiOrigin;
    const apiProtocol = api?.protocolPolicy ?? cloudfront.OriginProtocolPolicy.HTTPS_ONLY;
    const forwardHost = api?.forwardHostHeader ?? apiProtocol === cloudfront.OriginProtocolPolicy.HTTPS_ONLY;
    if (api && forwardHost && domainNames.length === 0) {
      throw new Error('Cdn: apiOrigin forwards the Host header (the default with HTTPS_ONLY) but the distribution has no domainNames, so the '
        + 'origin would be asked for *.cloudfront.net, which no ALB certificate covers; set domainNames and certificate, or protocolPolicy HTTP_ONLY');
    }
    if (api && ![cloudfront.OriginProtocolPolicy.HTTPS_ONLY, cloudfront.OriginProtocolPolicy.HTTP_ONLY].includes(apiProtocol)) {
      throw new Error(`Cdn: apiOrigin.protocolPolicy must be HTTPS_ONLY or HTTP_ONLY (got ${apiProtocol}): the load balancer listens on one protocol`);
    }

    this.originAccessControl = new cloudfront.S3OriginAccessControl(this, 'OriginAccessControl', {
      signing: cloudfront.Signing.SIGV4_ALWAYS,
      description: 'Static assets read by CloudFront only',
    });
    this.staticCachePolicy = new cloudfront.CachePolicy(this, 'StaticCachePolicy', {
      comment: 'Static assets: versioned URLs, long TTL, origin Cache-Control honoured',
      defaultTtl: props.staticAssetsTtl ?? Duration.days(30),
      minTtl: Duration.seconds(0),
      maxTtl: Duration.days(365),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    this.responseHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Security headers on every response',
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, preload: false, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
        xssProtection: { protection: true, modeBlock: true, override: true },
        contentSecurityPolicy: props.contentSecurityPolicy ? { contentSecurityPolicy: props.contentSecurityPolicy, override: true } : undefined,
      },
    });
    if (props.spaFallback ?? true) {
      this.spaRewriteFunction = new cloudfront.Function(this, 'SpaRewrite', {
        comment: 'Client-side routes (no file extension) get /index.html',
        runtime: cloudfront.FunctionRuntime.JS_2_0,
        code: cloudfront.FunctionCode.fromInline(SPA_REWRITE),
      });
    }

    const additionalBehaviors: Record<string, cloudfront.BehaviorOptions> = {};
    if (api) {
      // The load balancer stays internal: CloudFront reaches it through ENIs it places in the VPC.
      this.apiVpcOrigin = new cloudfront.VpcOrigin(this, 'ApiVpcOrigin', {
        endpoint: cloudfront.VpcOriginEndpoint.applicationLoadBalancer(api.loadBalancer),
        protocolPolicy: apiProtocol,
        httpPort: 80,
        httpsPort: 443,
        originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      });
      this.apiCachePolicy = new cloudfront.CachePolicy(this, 'ApiCachePolicy', {
        comment: 'API: short default TTL, origin Cache-Control honoured, per Authorization and query string, cookies never in the key',
        defaultTtl: props.apiDefaultTtl ?? Duration.seconds(10),
        minTtl: Duration.seconds(0),
        maxTtl: props.apiMaxTtl ?? Duration.hours(1),
        cookieBehavior: cloudfront.CacheCookieBehavior.none(),
        // Only the cache policy can forward Authorization; keying on it keeps users' responses apart.
        headerBehavior: cloudfront.CacheHeaderBehavior.allowList('Authorization'),
        queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
        enableAcceptEncodingGzip: true,
        enableAcceptEncodingBrotli: true,
      });
      const cookies = [...new Set([...ALB_STICKINESS_COOKIES, ...(props.applicationCookies ?? [])])];
      this.apiOriginRequestPolicy = new cloudfront.OriginRequestPolicy(this, 'ApiOriginRequestPolicy', {
        comment: 'API: stickiness and application cookies, all query strings, the headers the gateway reads',
        cookieBehavior: cloudfront.OriginRequestCookieBehavior.allowList(...cookies),
        headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList(...API_FORWARDED_HEADERS, ...(forwardHost ? ['Host'] : [])),
        queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.all(),
      });
      additionalBehaviors[props.apiPathPattern ?? '/api/*'] = {
        origin: origins.VpcOrigin.withVpcOrigin(this.apiVpcOrigin!, { readTimeout: api.readTimeout ?? Duration.seconds(30) }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
        cachePolicy: this.apiCachePolicy,
        originRequestPolicy: this.apiOriginRequestPolicy,
        responseHeadersPolicy: this.responseHeadersPolicy,
        compress: true,
      };
    }

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: props.comment,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.ownBucketOrImport(props.staticAssetsBucket), {
          originAccessControl: this.originAccessControl,
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
        cachePolicy: this.staticCachePolicy,
        responseHeadersPolicy: this.responseHeadersPolicy,
        compress: true,
        functionAssociations: this.spaRewriteFunction
          ? [{ function: this.spaRewriteFunction, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }]
          : undefined,
      },
      additionalBehaviors,
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
      // Only meaningful with a certificate: the default *.cloudfront.net one is fixed at TLSv1.
      minimumProtocolVersion: props.certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      sslSupportMethod: props.certificate ? cloudfront.SSLMethod.SNI : undefined,
      domainNames: domainNames.length > 0 ? domainNames : undefined,
      certificate: props.certificate,
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_100,
      webAclId: props.webAclArn,
      logBucket: props.logBucket,
      logFilePrefix: props.logFilePrefix ?? 'cloudfront/',
      logIncludesCookies: false,
      publishAdditionalMetrics: props.additionalMetrics ?? true,
    });
    this.acknowledgeFindings(props);
    this.alarms = [];
    if (props.alarms ?? true) {
      const region = Stack.of(this).region;
      if (Token.isUnresolved(region) || region === 'us-east-1') {
        this.alarms = new CdnAlarms(this, 'Alarms', {
          distribution: this.distribution,
          originLatency: props.additionalMetrics ?? true,
          alarmTopic: props.alarmTopic,
          alarmThresholds: props.alarmThresholds,
        }).alarms;
      } else {
        Annotations.of(this).addWarningV2('@platform/cdn:alarmsOutsideUsEast1',
          `Cdn: no alarms created: CloudFront publishes its metrics in us-east-1 only and this stack is in ${region}. Put a CdnAlarms in a us-east-1 stack and set alarms: false here.`);
      }
    }
  }

  /**
   * OAC adds a bucket (and key) policy statement for this distribution. A bucket of another stack
   * is used through an import instead: changing its policy from here would make the two stacks
   * depend on each other. Its owner grants the CloudFront service principal of the account.
   */
  private ownBucketOrImport(bucket: s3.IBucket): s3.IBucket {
    if (Stack.of(bucket) === Stack.of(this)) {
      const keyScope = bucket.encryptionKey?.node.scope;
      if (keyScope) {
        Annotations.of(keyScope).acknowledgeWarning('@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac',
          'The key statement admits any distribution of this account, but only for reads the bucket policy allows, and that names this distribution');
      }
      return bucket;
    }
    Annotations.of(this).acknowledgeWarning('@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac',
      'The bucket lives in another stack, which grants the CloudFront service principal of this account read access');
    return s3.Bucket.fromBucketAttributes(this, 'StaticAssetsBucket', {
      bucketArn: bucket.bucketArn,
      bucketName: bucket.bucketName,
      bucketRegionalDomainName: bucket.bucketRegionalDomainName,
    });
  }

  private acknowledgeFindings(props: CdnProps): void {
    acknowledge(this.distribution, {
      id: controlTower('cloudfront_origin_failover_enabled_check'),
      reason: 'The platform is single-region by design: each behavior has one origin (S3 and the ALB are multi-AZ services). '
        + 'An origin group would need a replicated bucket and a second load balancer region.',
    }, {
      id: 'AwsSolutions-CFR1',
      reason: 'The service is offered worldwide; abusive sources are handled by the WAF web ACL (IP reputation, rate limit, deny list).',
    });
    if (Stack.of(props.logBucket) !== Stack.of(this)) {
      acknowledge(this.distribution, {
        id: controlTower('cloudfront_access_logs_enabled_check'),
        reason: 'Logging is on: the log bucket lives in another stack, so the template names it through a cross-stack '
          + 'reference (Fn::GetStackOutput or Fn::ImportValue), which the guard rule cannot resolve: it accepts only a literal or a same-template reference.',
      });
    }
    if (!props.certificate) {
      const reason = 'No custom domain configured (the platform allows this only in dev; config validation requires edge.domainName '
        + 'and both certificates in staging and prod): the distribution serves its *.cloudfront.net name with the default certificate, '
        + 'for which CloudFront fixes the security policy at TLSv1 and cannot use SNI. With domainNames and a certificate '
        + 'the distribution uses TLSv1.2_2021 with SNI and these rules pass.';
      acknowledge(this.distribution,
        { id: 'AwsSolutions-CFR4', reason },
        { id: controlTower('cloudfront_security_policy_check'), reason },
        { id: controlTower('cloudfront_custom_ssl_certificate_check'), reason },
        { id: controlTower('cloudfront_sni_enabled_check'), reason });
    }
  }
}
