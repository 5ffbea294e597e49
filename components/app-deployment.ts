import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ContainerResources, resourceRequirements } from "./container-resources";
import { PART_OF, standardLabels } from "./labels";
import {
  RESTRICTED_CONTAINER_SECURITY_CONTEXT,
  RESTRICTED_POD_SECURITY_CONTEXT,
} from "./pod-security";
import {
  DNS_1035_LABEL,
  DNS_SUBDOMAIN,
  IMAGE_DIGEST,
  IMAGE_REPOSITORY,
  IMAGE_TAG,
  QUANTITY,
} from "./formats";

/**
 * The workload objects of one application that CI deploys itself (`agent` or `direct` method):
 * Deployment, Service and optionally a PodDisruptionBudget and an Ingress.
 *
 * Why the platform creates them: a pipeline's deployer Role may only patch/update an existing
 * Deployment and read rollout status (`kubectl set image`, `kubectl rollout status|undo`). The
 * platform owns every field of these objects except the container image, which CI owns from the
 * first `kubectl set image` on.
 */

/** The image the Deployment starts with until CI sets its own: exactly one of `tag`, `digest`. */
export interface AppImage {
  /** Repository without tag or digest, e.g. `registry.gitlab.com/acme/web`. */
  readonly repository: string;
  /** Tag; the reference is `repository:tag`. */
  readonly tag?: string;
  /** Digest `sha256:<64 hex>`; the reference is `repository@digest`. */
  readonly digest?: string;
}

/** The Ingress of an app. */
export interface AppIngress {
  /** Host name the app is served on (lowercase DNS name), e.g. `web.example.com`. */
  readonly host: string;
  /** `ingressClassName`; when omitted the cluster's default IngressClass applies. */
  readonly className?: string;
  /** TLS for the host. Default none: the app is served over plain HTTP (`http://` URL). */
  readonly tls?: AppIngressTls;
}

/** Where the Ingress's certificate comes from. */
export interface AppIngressTls {
  /** The `kubernetes.io/tls` Secret in the app's namespace holding the certificate. */
  readonly secretName: string;
  /**
   * A cert-manager ClusterIssuer that issues the certificate into `secretName` (the
   * `cert-manager.io/cluster-issuer` annotation). Default none: the Secret is provided otherwise.
   */
  readonly clusterIssuer?: string;
}

/** The annotation cert-manager's ingress-shim reads. */
export const CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer";

/** Arguments of {@link AppDeployment}. Every field is required unless marked optional. */
export interface AppDeploymentArgs {
  /**
   * The app's name: `metadata.name` of every child, the container's name (so CI runs
   * `kubectl set image deployment/<app> <app>=<image>`) and `app.kubernetes.io/name`. A DNS-1035
   * label, because it names a Service.
   */
  readonly app: string;
  /** Namespace of the app (created elsewhere). Pass the Namespace's output so it comes first. */
  readonly namespace: pulumi.Input<string>;
  /**
   * ServiceAccount the pods run as (created elsewhere, in `namespace`; it carries the registry
   * pull secret). Its API token is not mounted.
   */
  readonly serviceAccountName: pulumi.Input<string>;
  /** Initial image. Changes after creation are ignored: CI owns the image (see the class doc). */
  readonly image: AppImage;
  /** Port the container listens on (1-65535); named `http`, the Service's target. */
  readonly port: number;
  /** Number of pods, at least 1; with {@link autoscaling}, the fewest the autoscaler keeps. */
  readonly replicas: number;
  /**
   * A HorizontalPodAutoscaler (autoscaling/v2) scaling the Deployment between `replicas` and
   * `maxReplicas` on average CPU utilization (of the CPU request). The Deployment then leaves
   * `spec.replicas` to it, so a later `up` never resets what the autoscaler chose. Default none.
   */
  readonly autoscaling?: AppAutoscaling;
  /** Container requests and limits. */
  readonly resources: ContainerResources;
  /**
   * How CI deploys the app. `flux` apps do not use this component: Flux owns their objects, and two
   * owners of one Deployment would fight over it.
   */
  readonly method: "agent" | "direct";
  /** Ingress; none when omitted (the app is reachable inside the cluster only). */
  readonly ingress?: AppIngress;
  /**
   * Whether to create a PodDisruptionBudget. Only honoured when `replicas > 1`: with one replica a
   * budget either blocks node drains (`minAvailable: 1`) or protects nothing (`maxUnavailable: 1`).
   */
  readonly podDisruptionBudget: boolean;
  /** The stack's environment (`dev`, `production`, …), the {@link ENVIRONMENT_LABEL} label. */
  readonly environment: string;
  /**
   * A digest promoted through the platform (`sha256:…`, resolved from a tag by
   * `components/image-promotion.ts`): the platform then owns the image, which becomes
   * `<repository>@<digest>` on every `up` (no `ignoreChanges`), so a merge request that changes the
   * promoted tag is reviewed as the exact digest that will run. Default none: CI owns the image.
   */
  readonly promotedDigest?: string;
}

/** Horizontal autoscaling of an app's Deployment. */
export interface AppAutoscaling {
  /** The most pods the autoscaler may run (at least `replicas`). */
  readonly maxReplicas: number;
  /** Average CPU utilization to keep, in percent of the CPU request (1-100). */
  readonly targetCpuUtilization: number;
}

/** Label carrying the stack's environment on every object and pod of an app. */
export const ENVIRONMENT_LABEL = `${PART_OF}/environment`;

/** Property path (Pulumi syntax) of the image CI owns; the Deployment's `ignoreChanges`. */
export const IMAGE_PATH = "spec.template.spec.containers[0].image";

/** Name of the container port, the Service's `targetPort` and the probes' port. */
export const PORT_NAME = "http";

/** Port the Service exposes inside the cluster. */
export const SERVICE_PORT = 80;

/**
 * One app's Deployment, Service, and optionally PodDisruptionBudget and Ingress, shaped so that CI
 * can own the image:
 *
 * - `ignoreChanges` on {@link IMAGE_PATH}: after `kubectl set image`, `pulumi up` keeps the image
 *   it finds in its state instead of resetting it to `args.image`. Pulumi reads that state from the
 *   cluster only on refresh, so the platform pipeline must run `pulumi up --refresh`.
 * - No `pulumi.com/patchForce`. `kubectl set image` makes the `kubectl-set` field manager the owner
 *   of the image. The provider drops ignored fields another manager owns from its apply request,
 *   but not when the path has an array index (this one has). Without a refresh, an update that
 *   changes something else therefore sends the stale image: the API server rejects it as a
 *   conflict, which fails loudly. Forcing would override the conflict and roll the app back to the
 *   bootstrap image without a word.
 * - `pulumi.com/skipAwait` on the Deployment and the Service: at bootstrap the image may not exist
 *   yet (CI has not built it), so pods cannot become ready. Pulumi would wait for the rollout and
 *   for ready endpoints for 10 minutes and then fail. Whether a rollout succeeds is CI's check
 *   (`kubectl rollout status`). The Ingress is still awaited: its readiness (endpoints exist, the
 *   controller published an address) does not depend on the image.
 * - Nothing is ignored under `spec.template.metadata.annotations`: the platform sets no template
 *   annotations, so under server-side apply it never owns or removes
 *   `kubectl.kubernetes.io/restartedAt` (`kubectl rollout restart`).
 */
export class AppDeployment extends pulumi.ComponentResource {
  /** `metadata.name` of the Deployment (the app's name), known once it exists. */
  public readonly deploymentName: pulumi.Output<string>;
  /** `metadata.name` of the Service (the app's name): `http://<name>.<namespace>` in-cluster. */
  public readonly serviceName: pulumi.Output<string>;
  /** `https://<ingress host>` (`http://` without TLS) once the Ingress exists; undefined without an Ingress. */
  public readonly url: pulumi.Output<string> | undefined;

  constructor(name: string, args: AppDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    // Before `super`, so invalid arguments register nothing, not even the component.
    const problems = appDeploymentProblems(args);
    if (problems.length > 0) {
      throw new Error(problems.map((p) => `AppDeployment "${name}": ${p}`).join("\n"));
    }
    super("platform:apps:AppDeployment", name, {}, opts);

    const labels = appLabels(args.app, args.environment);
    const metadata = { name: args.app, namespace: args.namespace, labels };
    const skipAwait = { "pulumi.com/skipAwait": "true" };

    const promoted = args.promotedDigest;
    const deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { ...metadata, annotations: skipAwait },
        spec: deploymentSpec(
          promoted === undefined
            ? args
            : { ...args, image: { repository: args.image.repository, digest: promoted } },
        ),
      },
      // CI owns the image, except where the platform promotes a digest.
      { parent: this, ...(promoted === undefined ? { ignoreChanges: [IMAGE_PATH] } : {}) },
    );
    const service = new k8s.core.v1.Service(
      name,
      {
        metadata: { ...metadata, annotations: skipAwait },
        spec: serviceSpec(args.app),
      },
      { parent: this },
    );
    if (args.autoscaling !== undefined) {
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        name,
        { metadata, spec: autoscalerSpec(args.app, args.replicas, args.autoscaling) },
        { parent: this, dependsOn: [deployment] },
      );
    }
    if (wantsPodDisruptionBudget(args)) {
      new k8s.policy.v1.PodDisruptionBudget(
        name,
        { metadata, spec: podDisruptionBudgetSpec(args.app) },
        { parent: this },
      );
    }
    let url: pulumi.Output<string> | undefined;
    if (args.ingress !== undefined) {
      const { tls } = args.ingress;
      const issuer = tls?.clusterIssuer;
      const ingress = new k8s.networking.v1.Ingress(
        name,
        {
          metadata:
            issuer === undefined
              ? metadata
              : { ...metadata, annotations: { [CLUSTER_ISSUER_ANNOTATION]: issuer } },
          spec: ingressSpec(args.app, args.ingress),
        },
        // The Ingress's await looks up the Service's endpoints.
        { parent: this, dependsOn: [service] },
      );
      url = ingress.metadata.name.apply(() => appUrl(args.ingress as AppIngress));
    }

    this.deploymentName = deployment.metadata.name;
    this.serviceName = service.metadata.name;
    this.url = url;
    this.registerOutputs({
      deploymentName: this.deploymentName,
      serviceName: this.serviceName,
      url: this.url,
    });
  }
}

/** Labels of `app`'s objects and pods: the standard set, its name, the environment. */
export function appLabels(app: string, environment: string): Record<string, string> {
  return {
    ...standardLabels("app", app),
    "app.kubernetes.io/name": app,
    [ENVIRONMENT_LABEL]: environment,
  };
}

/**
 * The labels that select `app`'s pods (Deployment selector, Service, PDB): only the two that never
 * change, because a Deployment's selector is immutable.
 */
export function selectorLabels(app: string): Record<string, string> {
  return { "app.kubernetes.io/name": app, "app.kubernetes.io/instance": app };
}

/** The image reference: `repository:tag` or `repository@sha256:…`. */
export function imageReference(image: AppImage): string {
  if (image.digest !== undefined) {
    return `${image.repository}@${image.digest}`;
  }
  if (image.tag !== undefined) {
    return `${image.repository}:${image.tag}`;
  }
  throw new Error("image: expected exactly one of tag or digest, got neither");
}

/** Whether a PodDisruptionBudget is created: requested and more than one replica. */
export function wantsPodDisruptionBudget(
  args: Pick<AppDeploymentArgs, "podDisruptionBudget" | "replicas">,
): boolean {
  return args.podDisruptionBudget && args.replicas > 1;
}

/**
 * TCP probes on the `http` port. The platform does not know an app's HTTP paths, and an HTTP probe
 * on a guessed path (`/healthz`) would keep pods unready or restart them for apps that don't
 * serve it; a TCP probe checks what the platform does know, that the process accepts connections.
 */
function tcpProbe(periodSeconds: number, failureThreshold: number): k8s.types.input.core.v1.Probe {
  return { tcpSocket: { port: PORT_NAME }, periodSeconds, failureThreshold };
}

/** The Deployment's spec. */
export function deploymentSpec(
  args: Pick<
    AppDeploymentArgs,
    | "app"
    | "environment"
    | "serviceAccountName"
    | "image"
    | "port"
    | "replicas"
    | "resources"
    | "autoscaling"
  >,
): k8s.types.input.apps.v1.DeploymentSpec {
  const container: k8s.types.input.core.v1.Container = {
    name: args.app,
    image: imageReference(args.image),
    ports: [{ name: PORT_NAME, containerPort: args.port, protocol: "TCP" }],
    resources: resourceRequirements(args.resources),
    securityContext: {
      allowPrivilegeEscalation: RESTRICTED_CONTAINER_SECURITY_CONTEXT.allowPrivilegeEscalation,
      capabilities: { drop: [...RESTRICTED_CONTAINER_SECURITY_CONTEXT.capabilities.drop] },
      readOnlyRootFilesystem: true,
    },
    // Up to 150 s for the port to open; liveness and readiness start after, so slow starters
    // are not restarted and liveness can stay strict.
    startupProbe: tcpProbe(5, 30),
    readinessProbe: tcpProbe(10, 3),
    // A minute of refused connections before the kubelet restarts the container.
    livenessProbe: tcpProbe(20, 3),
    // The root filesystem is read-only; many runtimes still need a scratch directory.
    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
  };
  return {
    // With an autoscaler the count is its to set: declaring it here would reset it on every `up`.
    ...(args.autoscaling === undefined ? { replicas: args.replicas } : {}),
    // Kept ReplicaSets are what `kubectl rollout undo` rolls back to.
    revisionHistoryLimit: 10,
    selector: { matchLabels: selectorLabels(args.app) },
    // A new pod must be ready before an old one goes, so a rollout never lowers capacity (and a
    // broken image never takes the app down). With one replica this is also what Kubernetes'
    // 25 %/25 % defaults round to; explicit here so every app has the same rollout.
    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
    template: {
      metadata: { labels: appLabels(args.app, args.environment) },
      spec: {
        serviceAccountName: args.serviceAccountName,
        // Apps get no Kubernetes API credentials unless a later change grants them on purpose.
        automountServiceAccountToken: false,
        // The Pod Security "restricted" profile. The image must declare a numeric non-root USER:
        // the kubelet refuses to start it otherwise.
        securityContext: {
          runAsNonRoot: RESTRICTED_POD_SECURITY_CONTEXT.runAsNonRoot,
          seccompProfile: { ...RESTRICTED_POD_SECURITY_CONTEXT.seccompProfile },
        },
        containers: [container],
        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
      },
    },
  };
}

/** The Service's spec: ClusterIP, port 80 to the container's `http` port. */
export function serviceSpec(app: string): k8s.types.input.core.v1.ServiceSpec {
  return {
    type: "ClusterIP",
    selector: selectorLabels(app),
    ports: [{ name: PORT_NAME, port: SERVICE_PORT, targetPort: PORT_NAME, protocol: "TCP" }],
  };
}

/**
 * The PodDisruptionBudget's spec. `maxUnavailable: 1` lets a drain evict one pod at a time, so a
 * two-replica app keeps one pod serving, and it stays "one at a time" if replicas grow
 * (`minAvailable: 1` would then let all but one go). `AlwaysAllow` lets drains evict pods that are
 * running but not ready (a crash-looping image from CI), which the default policy would block
 * while the app is already below budget (Kubernetes ≥ 1.27; GA in 1.31).
 */
export function podDisruptionBudgetSpec(
  app: string,
): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
  return {
    maxUnavailable: 1,
    selector: { matchLabels: selectorLabels(app) },
    unhealthyPodEvictionPolicy: "AlwaysAllow",
  };
}

/**
 * The HorizontalPodAutoscaler's spec: `app`'s Deployment between `minReplicas` and
 * `autoscaling.maxReplicas`, on the average CPU utilization of its pods.
 */
export function autoscalerSpec(
  app: string,
  minReplicas: number,
  autoscaling: AppAutoscaling,
): k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerSpec {
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: app },
    minReplicas,
    maxReplicas: autoscaling.maxReplicas,
    metrics: [
      {
        type: "Resource",
        resource: {
          name: "cpu",
          target: { type: "Utilization", averageUtilization: autoscaling.targetCpuUtilization },
        },
      },
    ],
  };
}

/** Where the app is reachable: `https://<host>` with TLS, else `http://<host>`. */
export function appUrl(ingress: AppIngress): string {
  return `${ingress.tls === undefined ? "http" : "https"}://${ingress.host}`;
}

/** The Ingress's spec: every path of `ingress.host` to the app's Service, with TLS if given. */
export function ingressSpec(
  app: string,
  ingress: AppIngress,
): k8s.types.input.networking.v1.IngressSpec {
  return {
    ...(ingress.className === undefined ? {} : { ingressClassName: ingress.className }),
    ...(ingress.tls === undefined
      ? {}
      : { tls: [{ hosts: [ingress.host], secretName: ingress.tls.secretName }] }),
    rules: [
      {
        host: ingress.host,
        http: {
          paths: [
            {
              path: "/",
              pathType: "Prefix",
              backend: { service: { name: app, port: { name: PORT_NAME } } },
            },
          ],
        },
      },
    ],
  };
}

// Formats the API server enforces on these fields (or, for image references, the container
// runtime), checked here so a bad value fails before anything is registered.
const LABEL_VALUE = /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** What is wrong with `args`, one message per problem (key path first); empty when valid. */
export function appDeploymentProblems(args: AppDeploymentArgs): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, path: string, expected: string, got: unknown): void => {
    if (!ok) {
      problems.push(`${path}: expected ${expected}, got ${JSON.stringify(got)}`);
    }
  };
  expect(
    DNS_1035_LABEL.test(args.app),
    "app",
    "a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, at most 63)",
    args.app,
  );
  expect(
    args.method === "agent" || args.method === "direct",
    "method",
    `"agent" or "direct" (Flux owns the objects of "flux" apps)`,
    args.method,
  );
  const { repository, tag, digest } = args.image;
  expect(
    IMAGE_REPOSITORY.test(repository),
    "image.repository",
    "a repository without tag",
    repository,
  );
  if (args.promotedDigest !== undefined) {
    if (tag !== undefined || digest !== undefined) {
      problems.push("image: expected neither tag nor digest with promotedDigest, got one");
    }
  } else if ((tag === undefined) === (digest === undefined)) {
    problems.push(
      `image: expected exactly one of tag or digest, got ${tag === undefined ? "neither" : "both"}`,
    );
  }
  if (tag !== undefined) {
    expect(IMAGE_TAG.test(tag), "image.tag", "an image tag", tag);
  }
  if (digest !== undefined) {
    expect(IMAGE_DIGEST.test(digest), "image.digest", "a digest sha256:<64 hex>", digest);
  }
  if (args.promotedDigest !== undefined) {
    expect(
      IMAGE_DIGEST.test(args.promotedDigest),
      "promotedDigest",
      "a digest sha256:<64 hex>",
      args.promotedDigest,
    );
  }
  if (args.autoscaling !== undefined) {
    const { maxReplicas, targetCpuUtilization } = args.autoscaling;
    expect(
      Number.isInteger(maxReplicas) && maxReplicas >= args.replicas,
      "autoscaling.maxReplicas",
      `an integer >= replicas (${args.replicas})`,
      maxReplicas,
    );
    expect(
      Number.isInteger(targetCpuUtilization) &&
        targetCpuUtilization >= 1 &&
        targetCpuUtilization <= 100,
      "autoscaling.targetCpuUtilization",
      "an integer percentage 1-100",
      targetCpuUtilization,
    );
  }
  expect(
    Number.isInteger(args.port) && args.port >= 1 && args.port <= 65535,
    "port",
    "an integer 1-65535",
    args.port,
  );
  expect(
    Number.isInteger(args.replicas) && args.replicas >= 1,
    "replicas",
    "an integer of at least 1",
    args.replicas,
  );
  for (const key of ["cpuRequest", "cpuLimit", "memoryRequest", "memoryLimit"] as const) {
    const value = args.resources[key];
    expect(QUANTITY.test(value), `resources.${key}`, "a Kubernetes quantity", value);
  }
  if (args.ingress !== undefined) {
    const { host, className } = args.ingress;
    expect(
      DNS_SUBDOMAIN.test(host),
      "ingress.host",
      "a lowercase DNS name (RFC 1123 subdomain)",
      host,
    );
    if (className !== undefined) {
      expect(DNS_SUBDOMAIN.test(className), "ingress.className", "an IngressClass name", className);
    }
    const tls = args.ingress.tls;
    if (tls !== undefined) {
      expect(
        DNS_SUBDOMAIN.test(tls.secretName),
        "ingress.tls.secretName",
        "a Secret name",
        tls.secretName,
      );
      if (tls.clusterIssuer !== undefined) {
        expect(
          DNS_SUBDOMAIN.test(tls.clusterIssuer),
          "ingress.tls.clusterIssuer",
          "a ClusterIssuer name",
          tls.clusterIssuer,
        );
      }
    }
  }
  expect(
    LABEL_VALUE.test(args.environment),
    "environment",
    "a label value (letters, digits, '-', '_', '.', at most 63)",
    args.environment,
  );
  return problems;
}
