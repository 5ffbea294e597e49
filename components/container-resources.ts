/**
 * CPU and memory requests and limits of one container: the shape the runner, the agent and the
 * apps share (and the stack config's `resources` keys), and its one rendering as a Kubernetes
 * `resources` block. Pure.
 */
import * as k8s from "@pulumi/kubernetes";

/** CPU and memory requests and limits of one container (Kubernetes quantities). */
export interface ContainerResources {
  /** CPU request, e.g. `250m`. */
  readonly cpuRequest: string;
  /** CPU limit, e.g. `1`. */
  readonly cpuLimit: string;
  /** Memory request, e.g. `256Mi`. */
  readonly memoryRequest: string;
  /** Memory limit, e.g. `1Gi`. */
  readonly memoryLimit: string;
}

/** `r` as a container's `resources`: `requests` and `limits` of `cpu` and `memory`. */
export function resourceRequirements(
  r: ContainerResources,
): k8s.types.input.core.v1.ResourceRequirements {
  return {
    requests: { cpu: r.cpuRequest, memory: r.memoryRequest },
    limits: { cpu: r.cpuLimit, memory: r.memoryLimit },
  };
}
