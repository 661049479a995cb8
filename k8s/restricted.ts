import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';

/** UID / GID the services image runs as (services/Dockerfile `USER 1000:1000`). */
export const APP_USER = 1000;

/** Pod security context of every platform pod: a numeric non-root user, volumes owned by its group. */
export const POD_SECURITY: kplus.PodSecurityContextProps = { ensureNonRoot: true, user: APP_USER, group: APP_USER, fsGroup: APP_USER };

/** Container security context of every platform container (restrictPod adds seccomp and the capability drop). */
export const CONTAINER_SECURITY: kplus.ContainerSecurityContextProps = {
  ensureNonRoot: true, user: APP_USER, group: APP_USER, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
};

/**
 * Closes the gaps of cdk8s-plus-27 to the Pod Security `restricted` profile on a workload's pod
 * template at `podSpecPath` (e.g. `/spec/template/spec`): kplus emits no seccompProfile and cannot
 * drop capabilities (`Capability.ALL` is undefined there and emits `drop: [null]`).
 */
export function restrictPod(workload: IConstruct, podSpecPath: string, containerCount: number): void {
  const obj = ApiObject.of(workload);
  obj.addJsonPatch(JsonPatch.add(`${podSpecPath}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }));
  for (let i = 0; i < containerCount; i++) {
    obj.addJsonPatch(JsonPatch.add(`${podSpecPath}/containers/${i}/securityContext/capabilities`, { drop: ['ALL'] }));
  }
}
