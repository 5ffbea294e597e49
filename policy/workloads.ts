import { ResourceValidation } from "@pulumi/policy";
import { containerResourceProblems, restrictedPodProblems } from "../components/pod-security";
import { PART_OF } from "../components/labels";
import { TYPES, isObject, metadataOf, podSpecOf } from "./kinds";

/**
 * Workloads and their exposure: every container of every pod the stack declares (Pods,
 * Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs) meets the restricted profile
 * and sets requests and limits — the rules of components/pod-security.ts, which the components'
 * tests assert too — and no Service reaches outside the cluster unless the program says the app
 * may. Pods a Helm chart renders are not visible here: a policy sees a release's values only.
 */

/** Every container runs with the restricted security context. */
export const containersRestricted: ResourceValidation = (args, report) => {
  const pod = podSpecOf(args.type, args.props);
  if (pod === undefined) {
    return;
  }
  for (const problem of restrictedPodProblems(pod.spec)) {
    report(`${pod.path}.${problem}`);
  }
};

/** Every container sets CPU and memory requests and limits. */
export const containersRequestsLimits: ResourceValidation = (args, report) => {
  const pod = podSpecOf(args.type, args.props);
  if (pod === undefined) {
    return;
  }
  for (const problem of containerResourceProblems(pod.spec)) {
    report(`${pod.path}.${problem}`);
  }
};

/**
 * The annotation the program sets on a Service whose app's config allows it to be reached from
 * outside the cluster (a LoadBalancer, NodePort or externalIPs Service): the value `"true"`.
 */
export const ALLOW_EXTERNAL_SERVICE_ANNOTATION = `${PART_OF}/allow-external-service`;

const EXTERNAL_TYPES: readonly string[] = ["LoadBalancer", "NodePort"];

/**
 * No Service of type LoadBalancer or NodePort and none with `externalIPs`, unless it carries
 * {@link ALLOW_EXTERNAL_SERVICE_ANNOTATION}: `"true"`.
 */
export const noExternalServices: ResourceValidation = (args, report) => {
  if (args.type !== TYPES.service) {
    return;
  }
  if (metadataOf(args.props).annotations[ALLOW_EXTERNAL_SERVICE_ANNOTATION] === "true") {
    return;
  }
  const spec = isObject(args.props["spec"]) ? args.props["spec"] : {};
  const allowed = `(or the annotation ${ALLOW_EXTERNAL_SERVICE_ANNOTATION}: "true", which the program sets when the app's config allows an external Service)`;
  const type = spec["type"];
  if (typeof type === "string" && EXTERNAL_TYPES.includes(type)) {
    report(`spec.type: expected ClusterIP ${allowed}, got ${JSON.stringify(type)}`);
  }
  const externalIPs = spec["externalIPs"];
  if (Array.isArray(externalIPs) && externalIPs.length > 0) {
    report(`spec.externalIPs: expected none ${allowed}, got ${JSON.stringify(externalIPs)}`);
  }
};
