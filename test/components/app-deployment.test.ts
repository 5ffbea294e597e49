import * as pulumi from "@pulumi/pulumi";
import {
  AppDeployment,
  AppDeploymentArgs,
  appDeploymentProblems,
  deploymentSpec,
  imageReference,
} from "../../components/app-deployment";
import {
  PodSpecFields,
  containerResourceProblems,
  restrictedPodProblems,
} from "../../components/pod-security";
import { record } from "../harness/component";
import { unwrap } from "../harness/mocks";

const DIGEST = `sha256:${"ab".repeat(32)}`;

const web: AppDeploymentArgs = {
  app: "web",
  namespace: pulumi.output("acme-web"),
  serviceAccountName: pulumi.output("web"),
  image: { repository: "registry.gitlab.example.com/acme/web", tag: "1.4.2" },
  port: 8080,
  replicas: 2,
  resources: { cpuRequest: "100m", cpuLimit: "500m", memoryRequest: "128Mi", memoryLimit: "256Mi" },
  method: "agent",
  ingress: { host: "web.example.com", className: "nginx" },
  podDisruptionBudget: true,
  environment: "production",
};

const LABELS = {
  "app.kubernetes.io/managed-by": "pulumi",
  "app.kubernetes.io/part-of": "gitlab-cd-platform",
  "app.kubernetes.io/component": "app",
  "app.kubernetes.io/instance": "web",
  "app.kubernetes.io/name": "web",
  "gitlab-cd-platform/environment": "production",
};
const SELECTOR = { "app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web" };

const K8S = {
  deployment: "kubernetes:apps/v1:Deployment",
  service: "kubernetes:core/v1:Service",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  ingress: "kubernetes:networking.k8s.io/v1:Ingress",
};

/** The Deployment spec every test expects, with `image` and `replicas` varying. */
function expectedDeploymentSpec(image: string, replicas: number): Record<string, unknown> {
  const tcp = (periodSeconds: number, failureThreshold: number) => ({
    tcpSocket: { port: "http" },
    periodSeconds,
    failureThreshold,
  });
  return {
    replicas,
    revisionHistoryLimit: 10,
    selector: { matchLabels: SELECTOR },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
    template: {
      metadata: { labels: LABELS },
      spec: {
        serviceAccountName: "web",
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        containers: [
          {
            name: "web",
            image,
            ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
            resources: {
              requests: { cpu: "100m", memory: "128Mi" },
              limits: { cpu: "500m", memory: "256Mi" },
            },
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ["ALL"] },
              readOnlyRootFilesystem: true,
            },
            startupProbe: tcp(5, 30),
            readinessProbe: tcp(10, 3),
            livenessProbe: tcp(20, 3),
            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
          },
        ],
        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
      },
    },
  };
}

describe("AppDeployment", () => {
  test("creates Deployment, Service, PodDisruptionBudget and Ingress with exact specs", async () => {
    const { resources, result } = await record(
      (provider) => new AppDeployment("web", web, { provider }),
    );
    expect(resources.countByType()).toEqual({
      "pulumi:providers:kubernetes": 1,
      "platform:apps:AppDeployment": 1,
      [K8S.deployment]: 1,
      [K8S.service]: 1,
      [K8S.pdb]: 1,
      [K8S.ingress]: 1,
    });

    const deployment = resources.find(K8S.deployment, "web");
    expect(deployment.inputs["metadata"]).toEqual({
      name: "web",
      namespace: "acme-web",
      labels: LABELS,
      annotations: { "pulumi.com/skipAwait": "true" },
    });
    expect(deployment.inputs["spec"]).toEqual(
      expectedDeploymentSpec("registry.gitlab.example.com/acme/web:1.4.2", 2),
    );
    // CI owns the image after creation: `pulumi up` must not reset it.
    expect(deployment.ignoreChanges).toEqual(["spec.template.spec.containers[0].image"]);

    const service = resources.find(K8S.service, "web");
    expect(service.inputs["metadata"]).toEqual({
      name: "web",
      namespace: "acme-web",
      labels: LABELS,
      annotations: { "pulumi.com/skipAwait": "true" },
    });
    expect(service.inputs["spec"]).toEqual({
      type: "ClusterIP",
      selector: SELECTOR,
      ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
    });
    expect(service.ignoreChanges).toEqual([]);

    const pdb = resources.find(K8S.pdb, "web");
    expect(pdb.inputs["metadata"]).toEqual({ name: "web", namespace: "acme-web", labels: LABELS });
    expect(pdb.inputs["spec"]).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: SELECTOR },
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    });

    const ingress = resources.find(K8S.ingress, "web");
    // The Ingress is awaited (no skipAwait): its readiness does not depend on the image.
    expect(ingress.inputs["metadata"]).toEqual({
      name: "web",
      namespace: "acme-web",
      labels: LABELS,
    });
    expect(ingress.inputs["spec"]).toEqual({
      ingressClassName: "nginx",
      rules: [
        {
          host: "web.example.com",
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: "web", port: { name: "http" } } },
              },
            ],
          },
        },
      ],
    });
    expect(ingress.dependencies).toContain(service.urn);

    const component = resources.find("platform:apps:AppDeployment", "web");
    for (const child of [deployment, service, pdb, ingress]) {
      expect(child.parent).toBe(component.urn);
      expect(child.provider).toContain("pulumi:providers:kubernetes::cluster");
    }

    expect(await unwrap(result.deploymentName)).toBe("web");
    expect(await unwrap(result.serviceName)).toBe("web");
    expect(result.url).toBeDefined();
    // No TLS configured: the URL says http, as the Ingress serves it.
    expect(await unwrap(result.url as pulumi.Output<string>)).toBe("http://web.example.com");
  });

  test("with TLS from a cert-manager issuer: the Ingress terminates TLS and the URL is https", async () => {
    const { resources, result } = await record(
      (provider) =>
        new AppDeployment(
          "web",
          {
            ...web,
            ingress: {
              host: "web.example.com",
              tls: { secretName: "web-tls", clusterIssuer: "letsencrypt" },
            },
          },
          { provider },
        ),
    );
    const ingress = resources.find(K8S.ingress, "web");
    expect(ingress.inputs["metadata"]).toEqual({
      name: "web",
      namespace: "acme-web",
      labels: LABELS,
      annotations: { "cert-manager.io/cluster-issuer": "letsencrypt" },
    });
    expect((ingress.inputs["spec"] as Record<string, unknown>)["tls"]).toEqual([
      { hosts: ["web.example.com"], secretName: "web-tls" },
    ]);
    expect(await unwrap(result.url as pulumi.Output<string>)).toBe("https://web.example.com");
  });

  test("without ingress, with one replica and an image by digest: Deployment and Service only", async () => {
    const { resources, result } = await record(
      (provider) =>
        new AppDeployment(
          "web",
          {
            ...web,
            image: { repository: "registry.gitlab.example.com/acme/web", digest: DIGEST },
            replicas: 1,
            ingress: undefined,
            // Requested, but a budget on one replica would block drains or protect nothing.
            podDisruptionBudget: true,
            method: "direct",
          },
          { provider },
        ),
    );
    expect(resources.countByType()).toEqual({
      "pulumi:providers:kubernetes": 1,
      "platform:apps:AppDeployment": 1,
      [K8S.deployment]: 1,
      [K8S.service]: 1,
    });
    expect(resources.find(K8S.deployment, "web").inputs["spec"]).toEqual(
      expectedDeploymentSpec(`registry.gitlab.example.com/acme/web@${DIGEST}`, 1),
    );
    expect(result.url).toBeUndefined();
  });

  test.each([
    { podDisruptionBudget: true, replicas: 2, pdbs: 1 },
    { podDisruptionBudget: true, replicas: 5, pdbs: 1 },
    { podDisruptionBudget: true, replicas: 1, pdbs: 0 },
    { podDisruptionBudget: false, replicas: 3, pdbs: 0 },
  ])(
    "PodDisruptionBudget $podDisruptionBudget with $replicas replica(s) creates $pdbs budget(s)",
    async ({ podDisruptionBudget, replicas, pdbs }) => {
      const { resources } = await record(
        (provider) =>
          new AppDeployment("web", { ...web, podDisruptionBudget, replicas }, { provider }),
      );
      expect(resources.ofType(K8S.pdb)).toHaveLength(pdbs);
      expect(resources.ofType(K8S.deployment)).toHaveLength(1);
    },
  );

  test("with autoscaling: a HorizontalPodAutoscaler owns the replica count, the Deployment declares none", async () => {
    const { resources } = await record(
      (provider) =>
        new AppDeployment(
          "web",
          { ...web, replicas: 2, autoscaling: { maxReplicas: 6, targetCpuUtilization: 75 } },
          { provider },
        ),
    );
    const hpa = resources.find("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "web");
    expect(hpa.inputs["metadata"]).toEqual({ name: "web", namespace: "acme-web", labels: LABELS });
    expect(hpa.inputs["spec"]).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 75 } },
        },
      ],
    });
    const deployment = resources.find(K8S.deployment, "web");
    expect(hpa.dependencies).toContain(deployment.urn);
    const expected = expectedDeploymentSpec("registry.gitlab.example.com/acme/web:1.4.2", 2);
    delete expected["replicas"];
    expect(deployment.inputs["spec"]).toEqual(expected);
    expect(deployment.inputs["spec"]).not.toHaveProperty("replicas");
    // The budget still follows the minimum.
    expect(resources.ofType(K8S.pdb)).toHaveLength(1);
  });

  test("the pod meets the restricted profile and sets requests and limits (the policy pack's rule)", () => {
    // The spec is plain data here (no Outputs besides the ServiceAccount name, not checked).
    const template = deploymentSpec(web).template as { spec: PodSpecFields };
    const pod = template.spec;
    expect(restrictedPodProblems(pod)).toEqual([]);
    expect(containerResourceProblems(pod)).toEqual([]);
  });

  test("an Ingress without className leaves the class to the cluster default", async () => {
    const { resources } = await record(
      (provider) =>
        new AppDeployment("web", { ...web, ingress: { host: "web.example.com" } }, { provider }),
    );
    const spec = resources.find(K8S.ingress, "web").inputs["spec"] as Record<string, unknown>;
    expect(Object.keys(spec)).toEqual(["rules"]);
  });

  test.each<[string, Partial<AppDeploymentArgs>, string]>([
    [
      "both tag and digest",
      { image: { repository: "registry.example.com/acme/web", tag: "1.0", digest: DIGEST } },
      'AppDeployment "web": image: expected exactly one of tag or digest, got both',
    ],
    [
      "neither tag nor digest",
      { image: { repository: "registry.example.com/acme/web" } },
      'AppDeployment "web": image: expected exactly one of tag or digest, got neither',
    ],
    ["port 0", { port: 0 }, 'AppDeployment "web": port: expected an integer 1-65535, got 0'],
    [
      "port 65536",
      { port: 65536 },
      'AppDeployment "web": port: expected an integer 1-65535, got 65536',
    ],
    [
      "a fractional port",
      { port: 80.5 },
      'AppDeployment "web": port: expected an integer 1-65535, got 80.5',
    ],
    [
      "an app name that cannot name a Service",
      { app: "1web" },
      `AppDeployment "web": app: expected a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, at most 63), got "1web"`,
    ],
    [
      "the flux method",
      { method: "flux" as AppDeploymentArgs["method"] },
      `AppDeployment "web": method: expected "agent" or "direct" (Flux owns the objects of "flux" apps), got "flux"`,
    ],
    [
      "zero replicas",
      { replicas: 0 },
      'AppDeployment "web": replicas: expected an integer of at least 1, got 0',
    ],
    [
      "an autoscaling maximum below replicas",
      { replicas: 3, autoscaling: { maxReplicas: 2, targetCpuUtilization: 70 } },
      'AppDeployment "web": autoscaling.maxReplicas: expected an integer >= replicas (3), got 2',
    ],
    [
      "an autoscaling target above 100 %",
      { autoscaling: { maxReplicas: 4, targetCpuUtilization: 101 } },
      'AppDeployment "web": autoscaling.targetCpuUtilization: expected an integer percentage 1-100, got 101',
    ],
    [
      "an uppercase ingress host",
      { ingress: { host: "Web.Example.com" } },
      'AppDeployment "web": ingress.host: expected a lowercase DNS name (RFC 1123 subdomain), got "Web.Example.com"',
    ],
  ])("rejects %s before registering anything", async (_case, override, message) => {
    const { resources, result } = await record((provider) => {
      try {
        new AppDeployment("web", { ...web, ...override }, { provider });
        return undefined;
      } catch (error) {
        return error as Error;
      }
    });
    expect(result?.message).toBe(message);
    // Only the test's own provider: not even the component was registered.
    expect(resources.countByType()).toEqual({ "pulumi:providers:kubernetes": 1 });
  });

  test("reports every problem at once, one line each", () => {
    expect(
      appDeploymentProblems({
        ...web,
        image: { repository: "Registry/Web", tag: "bad tag" },
        port: 70000,
        resources: { ...web.resources, memoryLimit: "lots" },
        environment: "",
      }),
    ).toEqual([
      'image.repository: expected a repository without tag, got "Registry/Web"',
      'image.tag: expected an image tag, got "bad tag"',
      "port: expected an integer 1-65535, got 70000",
      'resources.memoryLimit: expected a Kubernetes quantity, got "lots"',
      `environment: expected a label value (letters, digits, '-', '_', '.', at most 63), got ""`,
    ]);
    expect(appDeploymentProblems(web)).toEqual([]);
  });

  test.each([
    [
      { repository: "registry.example.com:5050/acme/web", tag: "v1" },
      "registry.example.com:5050/acme/web:v1",
    ],
    [
      { repository: "registry.example.com/acme/web", digest: DIGEST },
      `registry.example.com/acme/web@${DIGEST}`,
    ],
  ])("imageReference(%o) is %s", (image, reference) => {
    expect(imageReference(image)).toBe(reference);
  });
});
