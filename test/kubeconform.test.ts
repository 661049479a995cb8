import { validateManifests } from './support/kubeconform';

// The first validateManifests call installs kubeconform (`go install`, ~1 min cold on 2 cores) and
// the Kubernetes 1.35 schemas; later calls take well under a second.
const INSTALL_TIMEOUT = 30 * 60 * 1000;

const TARGET_GROUP_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef';

function deployment(extraSpec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'web',
              image: 'web:1.0.0',
              ports: [{ containerPort: 8080, name: 'http' }],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
      ...extraSpec,
    },
  };
}

function targetGroupBinding(spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'elbv2.k8s.aws/v1beta1',
    kind: 'TargetGroupBinding',
    metadata: { name: 'web', namespace: 'shop' },
    spec,
  };
}

const VALID_TGB_SPEC = {
  serviceRef: { name: 'web', port: 80 },
  targetGroupARN: TARGET_GROUP_ARN,
  targetType: 'ip',
  networking: {
    ingress: [{ from: [{ securityGroup: { groupID: 'sg-0123456789abcdef0' } }], ports: [{ port: 8080, protocol: 'TCP' }] }],
  },
};

describe('kubeconform (Kubernetes 1.35, strict, offline)', () => {
  beforeAll(() => {
    // installs on first use; an empty run would not, so validate one object here
    expect(validateManifests([deployment()], 'warm-up').errors).toEqual([]);
  }, INSTALL_TIMEOUT);

  test('a valid Deployment passes', () => {
    expect(validateManifests([deployment()])).toEqual({ valid: 1, errors: [], kinds: ['Deployment'] });
  });

  test('an unknown field fails (strict)', () => {
    const r = validateManifests([deployment({ replicaz: 3 })]);
    expect(r.valid).toBe(0);
    expect(r.errors).toEqual([expect.stringMatching(/^Deployment\/web: .*additional properties 'replicaz' not allowed/)]);
  });

  test('an unknown field deep in the pod template fails (strict)', () => {
    const doc = deployment();
    const containers = ((doc.spec as any).template.spec.containers as any[]);
    containers[0].imagePullPolicee = 'Always';
    const r = validateManifests([doc]);
    expect(r.errors).toEqual([expect.stringMatching(/containers\/0: additional properties 'imagePullPolicee' not allowed/)]);
  });

  test('a wrong type fails', () => {
    const r = validateManifests([deployment({ replicas: 'two' })]);
    expect(r.errors).toEqual([expect.stringMatching(/^Deployment\/web: \/spec\/replicas: /)]);
  });

  test.each([
    ['policy/v1beta1', 'PodDisruptionBudget', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } }],
    ['batch/v1beta1', 'CronJob', { schedule: '* * * * *', jobTemplate: { spec: {} } }],
    ['autoscaling/v2beta2', 'HorizontalPodAutoscaler', { maxReplicas: 3, scaleTargetRef: { kind: 'Deployment', name: 'web' } }],
  ])('removed API %s %s fails', (apiVersion, kind, spec) => {
    const r = validateManifests([{ apiVersion, kind, metadata: { name: 'web' }, spec }]);
    expect(r.valid).toBe(0);
    expect(r.errors).toEqual([expect.stringMatching(`^${kind}/web: no schema for ${apiVersion} ${kind} `)]);
  });

  test('the GA versions of those APIs pass', () => {
    const r = validateManifests([
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } },
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web' },
        spec: { minReplicas: 2, maxReplicas: 6, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' } },
      },
    ]);
    expect(r).toEqual({ valid: 2, errors: [], kinds: ['HorizontalPodAutoscaler', 'PodDisruptionBudget'] });
  });

  test('an unknown kind fails', () => {
    const r = validateManifests([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: {} }]);
    expect(r.errors).toEqual([expect.stringMatching(/^Widget\/w: no schema for example.com\/v1 Widget /)]);
  });

  test('a valid TargetGroupBinding passes', () => {
    expect(validateManifests([targetGroupBinding(VALID_TGB_SPEC)])).toEqual({
      valid: 1,
      errors: [],
      kinds: ['TargetGroupBinding'],
    });
  });

  test('a TargetGroupBinding without serviceRef fails', () => {
    const { serviceRef: _omitted, ...spec } = VALID_TGB_SPEC;
    const r = validateManifests([targetGroupBinding(spec)]);
    expect(r.errors).toEqual([expect.stringMatching(/^TargetGroupBinding\/web: \/spec: missing property 'serviceRef'/)]);
  });

  test('a TargetGroupBinding with targetType bogus fails', () => {
    const r = validateManifests([targetGroupBinding({ ...VALID_TGB_SPEC, targetType: 'bogus' })]);
    expect(r.errors).toEqual([expect.stringMatching(/^TargetGroupBinding\/web: \/spec\/targetType: value must be one of 'instance', 'ip'/)]);
  });

  test('a TargetGroupBinding with an unknown field or metadata key fails (strict)', () => {
    const r = validateManifests([
      { ...targetGroupBinding({ ...VALID_TGB_SPEC, targetGroupArn: TARGET_GROUP_ARN }), metadata: { name: 'web', namspace: 'shop' } },
    ]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/additional properties 'targetGroupArn' not allowed/);
    expect(r.errors[0]).toMatch(/\/metadata: additional properties 'namspace' not allowed/);
  });

  test('only TargetGroupBinding v1beta1 has a schema', () => {
    const r = validateManifests([{ ...targetGroupBinding(VALID_TGB_SPEC), apiVersion: 'elbv2.k8s.aws/v1alpha1' }]);
    expect(r.errors).toEqual([expect.stringMatching(/^TargetGroupBinding\/web: no schema for elbv2.k8s.aws\/v1alpha1 TargetGroupBinding /)]);
  });

  test('several documents: each failure is reported, valid ones are counted', () => {
    const r = validateManifests(
      [deployment(), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80, targetPort: 'http' }] } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: 1 } }, { kind: 'Secret', metadata: { name: 's' } }],
      'mixed',
    );
    expect(r.valid).toBe(2);
    expect(r.kinds).toEqual(expect.arrayContaining(['ConfigMap', 'Deployment', 'Service']));
    expect(r.errors).toEqual([expect.stringMatching(/^ConfigMap\/cfg: \/data\/a: /), expect.stringMatching(/^Secret\/s: /)]);
  });
});
