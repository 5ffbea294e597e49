import {
  PodSpecFields,
  RESTRICTED_CONTAINER_SECURITY_CONTEXT,
  RESTRICTED_POD_SECURITY_CONTEXT,
  containerResourceProblems,
  restrictedPodProblems,
} from "../../components/pod-security";

/** The restricted profile and requests/limits, shared by components, tests and the policy pack. */

const resources = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "256Mi" },
};

/** A pod that meets both rules: the contexts split between pod and container, as apps do. */
const pod: PodSpecFields = {
  securityContext: RESTRICTED_POD_SECURITY_CONTEXT,
  containers: [{ name: "web", securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT, resources }],
};

describe("restrictedPodProblems", () => {
  test("a pod with the platform's contexts meets the profile", () => {
    expect(restrictedPodProblems(pod)).toEqual([]);
  });

  test("the pod-level settings may sit in every container instead", () => {
    expect(
      restrictedPodProblems({
        containers: [
          {
            name: "web",
            securityContext: {
              ...RESTRICTED_CONTAINER_SECURITY_CONTEXT,
              ...RESTRICTED_POD_SECURITY_CONTEXT,
              capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
            },
          },
        ],
      }),
    ).toEqual([]);
  });

  test("a container without any context names every missing setting", () => {
    expect(restrictedPodProblems({ containers: [{ name: "web" }] })).toEqual([
      "containers[0] (web): securityContext.runAsNonRoot: expected true in the container's or the pod's securityContext, got nothing",
      `containers[0] (web): securityContext.seccompProfile.type: expected "RuntimeDefault" in the container's or the pod's securityContext, got nothing`,
      "containers[0] (web): securityContext.allowPrivilegeEscalation: expected false, got nothing",
      `containers[0] (web): securityContext.capabilities.drop: expected a list with "ALL", got nothing`,
    ]);
  });

  test.each<[string, PodSpecFields, string[]]>([
    [
      "a container that overrides the pod's runAsNonRoot",
      {
        ...pod,
        containers: [
          {
            name: "web",
            securityContext: { ...RESTRICTED_CONTAINER_SECURITY_CONTEXT, runAsNonRoot: false },
          },
        ],
      },
      [
        "containers[0] (web): securityContext.runAsNonRoot: expected true in the container's or the pod's securityContext, got false",
      ],
    ],
    [
      "root by uid, at pod and container level",
      {
        securityContext: { ...RESTRICTED_POD_SECURITY_CONTEXT, runAsUser: 0 },
        containers: [
          {
            name: "web",
            securityContext: { ...RESTRICTED_CONTAINER_SECURITY_CONTEXT, runAsUser: 0 },
          },
        ],
      },
      [
        "securityContext.runAsUser: expected a non-zero user, got 0",
        "containers[0] (web): securityContext.runAsUser: expected a non-zero user, got 0",
      ],
    ],
    [
      "an Unconfined container overriding the pod's seccomp profile",
      {
        ...pod,
        containers: [
          {
            name: "build",
            securityContext: {
              ...RESTRICTED_CONTAINER_SECURITY_CONTEXT,
              seccompProfile: { type: "Unconfined" },
            },
          },
        ],
      },
      [
        `containers[0] (build): securityContext.seccompProfile.type: expected "RuntimeDefault" in the container's or the pod's securityContext, got "Unconfined"`,
      ],
    ],
    [
      "a privileged container that may escalate",
      {
        ...pod,
        containers: [
          {
            name: "dind",
            securityContext: {
              allowPrivilegeEscalation: true,
              privileged: true,
              capabilities: { drop: ["ALL"], add: ["SYS_ADMIN", "NET_BIND_SERVICE", "NET_RAW"] },
            },
          },
        ],
      },
      [
        "containers[0] (dind): securityContext.allowPrivilegeEscalation: expected false, got true",
        "containers[0] (dind): securityContext.privileged: expected false or nothing, got true",
        `containers[0] (dind): securityContext.capabilities.add: expected at most "NET_BIND_SERVICE", got ["SYS_ADMIN","NET_RAW"]`,
      ],
    ],
    [
      "capabilities dropped one by one instead of ALL",
      {
        ...pod,
        containers: [
          {
            name: "web",
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ["NET_RAW"] },
            },
          },
        ],
      },
      [
        `containers[0] (web): securityContext.capabilities.drop: expected a list with "ALL", got ["NET_RAW"]`,
      ],
    ],
    [
      "init and ephemeral containers, unnamed ones too",
      {
        ...pod,
        initContainers: [{ name: "migrate" }],
        ephemeralContainers: [{ securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT }],
      },
      [
        "initContainers[0] (migrate): securityContext.allowPrivilegeEscalation: expected false, got nothing",
        `initContainers[0] (migrate): securityContext.capabilities.drop: expected a list with "ALL", got nothing`,
      ],
    ],
  ])("%s", (_case, spec, problems) => {
    expect(restrictedPodProblems(spec)).toEqual(problems);
  });
});

describe("containerResourceProblems", () => {
  test("all four quantities on every container pass; numbers are quantities too", () => {
    expect(containerResourceProblems(pod)).toEqual([]);
    expect(
      containerResourceProblems({
        containers: [
          { resources: { requests: { cpu: 1, memory: "1Gi" }, limits: resources.limits } },
        ],
      }),
    ).toEqual([]);
  });

  test("names each missing request and limit, init containers included; ephemeral ones have none", () => {
    expect(
      containerResourceProblems({
        containers: [
          { name: "web", resources: { requests: { cpu: "100m" }, limits: { cpu: "" } } },
        ],
        initContainers: [{ name: "migrate", resources }],
        ephemeralContainers: [{ name: "debug" }],
      }),
    ).toEqual([
      "containers[0] (web): resources.requests.memory: expected a quantity, got nothing",
      'containers[0] (web): resources.limits.cpu: expected a quantity, got ""',
      "containers[0] (web): resources.limits.memory: expected a quantity, got nothing",
    ]);
    expect(containerResourceProblems({ initContainers: [{ name: "migrate" }] })).toEqual([
      "initContainers[0] (migrate): resources.requests.cpu: expected a quantity, got nothing",
      "initContainers[0] (migrate): resources.requests.memory: expected a quantity, got nothing",
      "initContainers[0] (migrate): resources.limits.cpu: expected a quantity, got nothing",
      "initContainers[0] (migrate): resources.limits.memory: expected a quantity, got nothing",
    ]);
  });
});
