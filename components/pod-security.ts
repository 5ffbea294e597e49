/**
 * The platform's rule for the containers it runs: Kubernetes' "restricted" Pod Security profile
 * (as far as a pod's security contexts say it) and requests and limits on every container. One
 * definition for the components that build pods (they spread the contexts below), for the tests
 * that assert them and for the policy pack (`policy/`), which checks every workload a stack
 * declares. Pure: no Pulumi, no I/O, no Kubernetes SDK types (the policy pack type-checks it when
 * it starts, and the SDK's declarations are large).
 */

/** The pod-level part of the restricted context: non-root, the runtime's default seccomp profile. */
export const RESTRICTED_POD_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  seccompProfile: { type: "RuntimeDefault" },
} as const;

/** The container-level part: no privilege escalation, every capability dropped. */
export const RESTRICTED_CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
} as const;

/** The fields of a security context (pod or container) that the checks read. */
export interface SecurityContextFields {
  readonly runAsNonRoot?: unknown;
  readonly runAsUser?: unknown;
  readonly seccompProfile?: { readonly type?: unknown } | null;
  readonly allowPrivilegeEscalation?: unknown;
  readonly privileged?: unknown;
  readonly capabilities?: { readonly drop?: unknown; readonly add?: unknown } | null;
}

/** The fields of a container that the checks read. */
export interface ContainerFields {
  readonly name?: unknown;
  readonly securityContext?: SecurityContextFields | null;
  readonly resources?: {
    readonly requests?: Readonly<Record<string, unknown>> | null;
    readonly limits?: Readonly<Record<string, unknown>> | null;
  } | null;
}

/** The fields of a pod spec that the checks read. */
export interface PodSpecFields {
  readonly securityContext?: SecurityContextFields | null;
  readonly containers?: readonly ContainerFields[] | null;
  readonly initContainers?: readonly ContainerFields[] | null;
  readonly ephemeralContainers?: readonly ContainerFields[] | null;
}

/** The only capability the restricted profile lets a container add. */
const ADDABLE_CAPABILITIES: readonly string[] = ["NET_BIND_SERVICE"];

function got(value: unknown): string {
  return value === undefined || value === null ? "nothing" : JSON.stringify(value);
}

/** Every container of the pod with its path: `containers[0] (web)`, `initContainers[1] (init)`. */
function eachContainer(pod: PodSpecFields, ephemeral: boolean): [string, ContainerFields][] {
  const lists: [string, readonly ContainerFields[] | null | undefined][] = [
    ["containers", pod.containers],
    ["initContainers", pod.initContainers],
  ];
  if (ephemeral) {
    lists.push(["ephemeralContainers", pod.ephemeralContainers]);
  }
  return lists.flatMap(([field, list]) =>
    (list ?? []).map((c, i): [string, ContainerFields] => [
      `${field}[${i}]${typeof c.name === "string" ? ` (${c.name})` : ""}`,
      c,
    ]),
  );
}

/**
 * Where `pod` falls short of the restricted profile, one `<container>: <field>: expected X, got
 * Y` line each; empty when it meets it. Every container (init and ephemeral ones too) must run
 * as non-root (`runAsNonRoot: true` in its own context or, unless it overrides it, the pod's; no
 * `runAsUser: 0`), with the `RuntimeDefault` seccomp profile (same inheritance), without
 * privilege escalation or `privileged`, and with every capability dropped (adding back at most
 * `NET_BIND_SERVICE`).
 */
export function restrictedPodProblems(pod: PodSpecFields): string[] {
  const podContext = pod.securityContext ?? {};
  const problems: string[] = [];
  if (podContext.runAsUser === 0) {
    problems.push("securityContext.runAsUser: expected a non-zero user, got 0");
  }
  for (const [at, container] of eachContainer(pod, true)) {
    const own = container.securityContext ?? {};
    const runAsNonRoot = own.runAsNonRoot ?? podContext.runAsNonRoot;
    if (runAsNonRoot !== true) {
      problems.push(
        `${at}: securityContext.runAsNonRoot: expected true in the container's or the pod's securityContext, got ${got(runAsNonRoot)}`,
      );
    }
    if (own.runAsUser === 0) {
      problems.push(`${at}: securityContext.runAsUser: expected a non-zero user, got 0`);
    }
    const seccomp = own.seccompProfile?.type ?? podContext.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault") {
      problems.push(
        `${at}: securityContext.seccompProfile.type: expected "RuntimeDefault" in the container's or the pod's securityContext, got ${got(seccomp)}`,
      );
    }
    if (own.allowPrivilegeEscalation !== false) {
      problems.push(
        `${at}: securityContext.allowPrivilegeEscalation: expected false, got ${got(own.allowPrivilegeEscalation)}`,
      );
    }
    if (own.privileged === true) {
      problems.push(`${at}: securityContext.privileged: expected false or nothing, got true`);
    }
    const drop = own.capabilities?.drop;
    if (!Array.isArray(drop) || !drop.includes("ALL")) {
      problems.push(
        `${at}: securityContext.capabilities.drop: expected a list with "ALL", got ${got(drop)}`,
      );
    }
    const add = own.capabilities?.add;
    const extra = Array.isArray(add) ? add.filter((c) => !ADDABLE_CAPABILITIES.includes(c)) : [];
    if (extra.length > 0) {
      problems.push(
        `${at}: securityContext.capabilities.add: expected at most "NET_BIND_SERVICE", got ${got(extra)}`,
      );
    }
  }
  return problems;
}

/** The requests and limits every container must set. */
const RESOURCE_FIELDS = [
  ["requests", "cpu"],
  ["requests", "memory"],
  ["limits", "cpu"],
  ["limits", "memory"],
] as const;

/**
 * Containers and init containers without a CPU or memory request or limit, one
 * `<container>: resources.<requests|limits>.<cpu|memory>: expected a quantity, got nothing` line
 * each; empty when every one sets all four. Ephemeral containers cannot have resources and are not
 * checked.
 */
export function containerResourceProblems(pod: PodSpecFields): string[] {
  const problems: string[] = [];
  for (const [at, container] of eachContainer(pod, false)) {
    for (const [kind, resource] of RESOURCE_FIELDS) {
      const value = container.resources?.[kind]?.[resource];
      const isQuantity =
        (typeof value === "string" && value.trim() !== "") || typeof value === "number";
      if (!isQuantity) {
        problems.push(
          `${at}: resources.${kind}.${resource}: expected a quantity, got ${got(value)}`,
        );
      }
    }
  }
  return problems;
}
