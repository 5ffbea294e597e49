/**
 * The gitlab-agent chart: its name, the names of what it installs, and its Helm values (agentk's
 * resources, security context, token Secret, rotation annotations). Pure: {@link GitLabAgent}
 * installs the release with these values; tests call these directly.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ContainerResources, resourceRequirements } from "./container-resources";
import { PART_OF } from "./labels";

/**
 * Default agentk resources: agentk is a small Go proxy (idle well under 64Mi). The chart derives
 * GOMAXPROCS and GOMEMLIMIT from the limits, so the limits also bound the Go runtime.
 */
export const DEFAULT_AGENT_RESOURCES: ContainerResources = {
  cpuRequest: "50m",
  cpuLimit: "500m",
  memoryRequest: "128Mi",
  memoryLimit: "256Mi",
};

/** The agent chart and its repository. */
export const AGENT_CHART = "gitlab-agent";
export const AGENT_CHART_REPO = "https://charts.gitlab.io";

/**
 * The UID/GID agentk runs as. The agentk image is distroless `nonroot` (65532); setting it
 * explicitly lets `runAsNonRoot` be verified even for images whose user is not numeric.
 */
export const AGENTK_UID = 65532;

/** Name of the agent's Helm release, ServiceAccount, Role and RoleBinding. */
export function agentResourceName(agentName: string): string {
  return `gitlab-agent-${agentName}`;
}

/** Name of the Secret holding the agent token (key `token`, as the chart mounts it). */
export function agentTokenSecretName(agentName: string): string {
  return `gitlab-agent-${agentName}-token`;
}

/** Pod annotations that roll the agent pods when the token is rotated. */
export const TOKEN_ID_ANNOTATION = `${PART_OF}/agent-token-id`;
export const ROTATION_ANNOTATION = `${PART_OF}/agent-token-rotation`;

/** What {@link agentHelmValues} needs. */
export interface AgentHelmValuesInput {
  readonly replicas: number;
  readonly kasAddress: string;
  /** The existing Secret with the token (key `token`). */
  readonly tokenSecretName: string;
  /** The ServiceAccount this program creates and binds. */
  readonly serviceAccountName: string;
  readonly resources: ContainerResources;
  /** GitLab's id of the current token, as a string. */
  readonly tokenId: pulumi.Input<string>;
  readonly rotation: string;
  /**
   * agentk image tag, optionally with a digest (`v18.6.0@sha256:…`: the chart renders
   * `<repository>:<tag>`, so the image is pulled by digest); the chart's appVersion when undefined.
   */
  readonly imageTag?: string | undefined;
}

/** Values of the gitlab-agent chart (names checked against chart 2.6.2's values.yaml). */
export type AgentHelmValues = {
  readonly image?: { readonly tag: string };
  readonly replicas: number;
  readonly rbac: { readonly create: boolean };
  readonly serviceAccount: { readonly create: boolean; readonly name: string };
  readonly config: {
    readonly kasAddress: string;
    readonly secretName: string;
    readonly operational_container_scanning: { readonly enabled: boolean };
  };
  readonly podAnnotations: Record<string, pulumi.Input<string>>;
  readonly podSecurityContext: k8s.types.input.core.v1.PodSecurityContext;
  readonly securityContext: k8s.types.input.core.v1.SecurityContext;
  readonly resources: k8s.types.input.core.v1.ResourceRequirements;
};

/**
 * The chart values. The token never appears here: `config.secretName` names the Secret the chart
 * mounts (`/etc/agentk/secrets/token`). `rbac.create: false` drops the chart's cluster-admin
 * ClusterRoleBinding; `serviceAccount.create: false` makes the pods use our ServiceAccount, which
 * our Role and ClusterRole bind. `config.operational_container_scanning.enabled: false` drops the
 * scanner's ServiceAccount and its ClusterRole (get/list on every Secret in the cluster), which we
 * do not use. With a Secret the chart cannot checksum the token, so the token id and the rotation
 * marker go into `podAnnotations` (merged with the chart's Prometheus annotations): a new token
 * rolls the pods.
 */
export function agentHelmValues(input: AgentHelmValuesInput): AgentHelmValues {
  return {
    ...(input.imageTag === undefined ? {} : { image: { tag: input.imageTag } }),
    replicas: input.replicas,
    rbac: { create: false },
    serviceAccount: { create: false, name: input.serviceAccountName },
    config: {
      kasAddress: input.kasAddress,
      secretName: input.tokenSecretName,
      operational_container_scanning: { enabled: false },
    },
    podAnnotations: {
      [TOKEN_ID_ANNOTATION]: input.tokenId,
      [ROTATION_ANNOTATION]: input.rotation,
    },
    // Pod Security "restricted"; agentk only reads mounted files, so the root filesystem can be
    // read-only (the chart's own securityContext example sets it).
    podSecurityContext: {
      runAsNonRoot: true,
      runAsUser: AGENTK_UID,
      runAsGroup: AGENTK_UID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    },
    resources: resourceRequirements(input.resources),
  };
}
