import { PlatformNamespace } from "../../components/platform-namespace";
import { record } from "../harness/component";

const quota = {
  requestsCpu: "4",
  requestsMemory: "8Gi",
  limitsCpu: "8",
  limitsMemory: "16Gi",
  pods: 20,
};
const limitRange = {
  defaultRequestCpu: "100m",
  defaultRequestMemory: "128Mi",
  defaultLimitCpu: "500m",
  defaultLimitMemory: "512Mi",
};

describe("PlatformNamespace", () => {
  test("creates the namespace with Pod Security and standard labels, a quota and a LimitRange", async () => {
    const { resources } = await record(
      (provider) =>
        new PlatformNamespace(
          "managed",
          { name: "gitlab-managed-apps", component: "gitlab-managed-apps", quota, limitRange },
          { provider },
        ),
    );
    expect(resources.countByType()).toEqual({
      "pulumi:providers:kubernetes": 1,
      "platform:cluster:PlatformNamespace": 1,
      "kubernetes:core/v1:Namespace": 1,
      "kubernetes:core/v1:ResourceQuota": 1,
      "kubernetes:core/v1:LimitRange": 1,
    });
    const ns = resources.find("kubernetes:core/v1:Namespace", "managed");
    expect(ns.inputs["metadata"]).toEqual({
      name: "gitlab-managed-apps",
      labels: {
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/part-of": "gitlab-cd-platform",
        "app.kubernetes.io/component": "gitlab-managed-apps",
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
      },
    });
    expect(
      resources.find("kubernetes:core/v1:ResourceQuota", "managed-quota").inputs["spec"],
    ).toEqual({
      hard: {
        "requests.cpu": "4",
        "requests.memory": "8Gi",
        "limits.cpu": "8",
        "limits.memory": "16Gi",
        pods: "20",
      },
    });
    const limits = resources.find("kubernetes:core/v1:LimitRange", "managed-limits");
    expect(limits.inputs["metadata"]).toMatchObject({
      name: "platform-limits",
      namespace: "gitlab-managed-apps",
    });
    expect(limits.inputs["spec"]).toEqual({
      limits: [
        {
          type: "Container",
          defaultRequest: { cpu: "100m", memory: "128Mi" },
          default: { cpu: "500m", memory: "512Mi" },
        },
      ],
    });
    // Children hang under the component and use the caller's provider.
    const component = resources.find("platform:cluster:PlatformNamespace", "managed");
    expect(ns.parent).toBe(component.urn);
    expect(ns.provider).toContain("pulumi:providers:kubernetes::cluster");
  });

  test("without quota or limits only the namespace is created; the enforced level is configurable", async () => {
    const { resources } = await record(
      (provider) =>
        new PlatformNamespace(
          "jobs",
          { name: "ci-jobs", component: "ci", podSecurity: "baseline" },
          { provider },
        ),
    );
    expect(resources.ofType("kubernetes:core/v1:ResourceQuota")).toHaveLength(0);
    expect(resources.ofType("kubernetes:core/v1:LimitRange")).toHaveLength(0);
    const labels = (
      resources.find("kubernetes:core/v1:Namespace", "jobs").inputs["metadata"] as {
        labels: Record<string, string>;
      }
    ).labels;
    expect(labels["pod-security.kubernetes.io/enforce"]).toBe("baseline");
    expect(labels["pod-security.kubernetes.io/warn"]).toBe("restricted");
  });
});
