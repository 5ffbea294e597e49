import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { parseImageReference } from "./formats";
import { chartSource } from "./helm-source";
import { standardLabels } from "./labels";
import { PlatformNamespace } from "./platform-namespace";

/** The flux2 chart's repository (fluxcd-community, the chart Flux's docs point to). */
export const FLUX_CHART_REPO = "https://fluxcd-community.github.io/helm-charts";

/** The identity kustomize-controller impersonates in an app namespace (multi-tenancy lockdown). */
export const FLUX_APPLIER = "flux-applier";

/** One app Flux deploys from an OCI artifact. */
export interface FluxApp {
  /** App name (DNS label): names the OCIRepository and Kustomization. */
  readonly name: string;
  /** The app's namespace (exists; an Output carries the dependency). */
  readonly namespace: pulumi.Input<string>;
  /** `oci://…` URL of the manifests artifact, e.g. `oci://registry.example.com/acme/web/manifests`. */
  readonly artifactUrl: string;
  /**
   * The pull Secret the OCIRepository reads (`registrySecretName` in the app's namespace), so the
   * source waits for it instead of failing its first pull. None when the artifacts are public.
   */
  readonly pullSecret?: pulumi.Resource;
  /**
   * The manifests artifact's digest to apply (`sha256:…`, promoted through the platform): the
   * OCIRepository follows exactly that artifact instead of the moving environment tag. Default none.
   */
  readonly digest?: string;
  /**
   * How the source verifies the artifact's cosign signature before Flux applies it; an artifact
   * that fails is never applied. Default none (any artifact the registry serves).
   */
  readonly verify?: FluxArtifactVerification;
}

/**
 * Cosign verification of an app's artifact (OCIRepository `spec.verify`): keyless, a signature
 * whose Fulcio certificate names this OIDC issuer and a subject matching the regular expression
 * (GitLab: `https://<gitlab>/<project>//.gitlab-ci.yml@refs/<ref>`); or a public key, stored in a
 * Secret `<app>-cosign` (key `cosign.pub`) next to the OCIRepository.
 */
export type FluxArtifactVerification =
  { readonly issuer: string; readonly subject: string } | { readonly publicKey: string };

/** Key of the public key in the verification Secret; Flux reads keys ending in `.pub`. */
export const COSIGN_PUBLIC_KEY = "cosign.pub";

/** The images of the Flux chart the platform runs: its two controllers and the install check. */
export const FLUX_IMAGES = ["sourceController", "kustomizeController", "cli"] as const;
export type FluxImage = (typeof FLUX_IMAGES)[number];

/**
 * Image references (`<repository>:<tag>@sha256:<64 hex>`, `<repository>@sha256:…` or
 * `<repository>:<tag>`) for the chart's images; the chart's own (by tag) for those not given.
 * `cli` is the flux CLI of the chart's pre-install check job (`flux check --pre`).
 */
export type FluxImages = Readonly<Partial<Record<FluxImage, string>>>;

/** Arguments of {@link FluxBootstrap}. */
export interface FluxBootstrapArgs {
  /** Namespace of the Flux controllers. Default `flux-system`. */
  readonly namespace?: string;
  /** Exact flux2 chart version. */
  /**
   * Where the chart comes from: an https:// chart repository (a mirror), an oci:// registry path,
   * or a local chart directory. Default the chart's public repository.
   */
  readonly chartRepository?: string;
  readonly chartVersion: string;
  /** How often sources and Kustomizations reconcile, e.g. `1m`. */
  readonly interval: string;
  /**
   * The artifact tag each app's OCIRepository follows: CI promotes a build to an environment by
   * tagging its artifact with the environment's name (`flux tag artifact … --tag production`).
   */
  readonly environment: string;
  /** Pull Secret (in each app namespace) for the registry; none when the artifacts are public. */
  readonly registrySecretName?: string;
  /** Apps deployed by Flux. */
  readonly apps: readonly FluxApp[];
  /** The chart's images, e.g. pinned by digest or from a mirror. Default the chart's own. */
  readonly images?: FluxImages;
}

/**
 * Flux installed with the flux2 Helm chart (source and kustomize controllers only) under
 * multi-tenancy lockdown, and for every app an `OCIRepository` + pruning `Kustomization` in the
 * app's own namespace, applied as a namespaced ServiceAccount that can manage only that
 * namespace's workload objects.
 */
export class FluxBootstrap extends pulumi.ComponentResource {
  /** Namespace of the controllers. */
  public readonly namespace: pulumi.Output<string>;
  /** The Helm release; Flux objects depend on it (their CRDs come with it). */
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: FluxBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems = fluxImageProblems(args.images ?? {});
    if (problems.length > 0) {
      // Before anything is registered, the component included.
      throw new Error(problems.map((p) => `FluxBootstrap "${name}": ${p}`).join("\n"));
    }
    super("platform:flux:FluxBootstrap", name, {}, opts);
    const namespaceName = args.namespace ?? "flux-system";
    const ns = new PlatformNamespace(
      `${name}-namespace`,
      { name: namespaceName, component: "flux" },
      { parent: this },
    );
    this.namespace = ns.name;
    this.release = new k8s.helm.v3.Release(
      name,
      {
        name: "flux",
        ...chartSource("flux2", args.chartRepository ?? FLUX_CHART_REPO),
        version: args.chartVersion,
        namespace: ns.name,
        values: fluxValues(args.images),
        atomic: true,
        cleanupOnFail: true,
        timeout: 600,
      },
      { parent: this, dependsOn: [ns] },
    );

    for (const app of args.apps) {
      createFluxApp(`${name}-${app.name}`, app, args, this.release, this);
    }
    this.registerOutputs({ namespace: this.namespace });
  }
}

function createFluxApp(
  name: string,
  app: FluxApp,
  args: FluxBootstrapArgs,
  release: k8s.helm.v3.Release,
  parent: pulumi.Resource,
): void {
  const labels = standardLabels("flux", app.name);
  const meta = (objectName: string) => ({ name: objectName, namespace: app.namespace, labels });
  const sa = new k8s.core.v1.ServiceAccount(
    `${name}-applier`,
    { metadata: meta(FLUX_APPLIER), automountServiceAccountToken: false },
    { parent },
  );
  const role = new k8s.rbac.v1.Role(
    `${name}-applier`,
    { metadata: meta(FLUX_APPLIER), rules: fluxApplierRules() },
    { parent },
  );
  const binding = new k8s.rbac.v1.RoleBinding(
    `${name}-applier`,
    {
      metadata: meta(FLUX_APPLIER),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: FLUX_APPLIER },
      subjects: [{ kind: "ServiceAccount", name: FLUX_APPLIER, namespace: app.namespace }],
    },
    { parent, dependsOn: [sa, role] },
  );
  const key =
    app.verify !== undefined && "publicKey" in app.verify
      ? new k8s.core.v1.Secret(
          `${name}-cosign`,
          {
            metadata: meta(cosignSecretName(app.name)),
            type: "Opaque",
            stringData: { [COSIGN_PUBLIC_KEY]: app.verify.publicKey },
          },
          { parent },
        )
      : undefined;
  const source = new k8s.apiextensions.CustomResource(
    `${name}-source`,
    {
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "OCIRepository",
      metadata: meta(app.name),
      spec: ociRepositorySpec(app, args),
    },
    // CRDs come with the release (pulumi-kubernetes#1735: custom resources need their CRDs first).
    {
      parent,
      dependsOn: [
        release,
        ...(app.pullSecret === undefined ? [] : [app.pullSecret]),
        ...(key === undefined ? [] : [key]),
      ],
    },
  );
  new k8s.apiextensions.CustomResource(
    `${name}-kustomization`,
    {
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: meta(app.name),
      spec: kustomizationSpec(app, args),
    },
    { parent, dependsOn: [release, source, binding] },
  );
}

/** Every problem with `images`, `images.<name>: reason` each; empty when valid. */
export function fluxImageProblems(images: FluxImages): string[] {
  return FLUX_IMAGES.flatMap((name) => {
    const reference = images[name];
    const parts = reference === undefined ? undefined : parseImageReference(reference);
    return reference === undefined ||
      (parts !== undefined && (parts.tag !== undefined || parts.digest !== undefined))
      ? []
      : [
          `images.${name}: expected an image with a tag, a digest or both, such as ` +
            `ghcr.io/fluxcd/flux-cli:v2.8.5@sha256:<64 hex>, got ${JSON.stringify(reference)}`,
        ];
  });
}

/**
 * The chart's `image` and `tag` for an image reference. The chart renders `<image>@<tag>` when
 * the tag starts with `sha256:`, else `<image>:<tag>`: so a tag and a digest go into `tag`
 * together (`v1.8.2@sha256:…`, rendered `<image>:v1.8.2@sha256:…`) and a lone digest alone.
 */
export function fluxImageValues(reference: string): { image: string; tag: string } {
  const parts = parseImageReference(reference);
  if (parts === undefined || (parts.tag === undefined && parts.digest === undefined)) {
    throw new Error(`not an image reference with a tag or digest: ${JSON.stringify(reference)}`);
  }
  const tag = [parts.tag, parts.digest].filter((p) => p !== undefined).join("@");
  return { image: parts.repository, tag };
}

/** The flux2 chart values: only what OCI-artifact GitOps needs, locked down for tenants. */
export function fluxValues(images: FluxImages = {}): Record<string, unknown> {
  const resources = {
    requests: { cpu: "100m", memory: "64Mi" },
    limits: { cpu: "1", memory: "1Gi" },
  };
  const image = (name: FluxImage) => {
    const reference = images[name];
    return reference === undefined ? {} : fluxImageValues(reference);
  };
  return {
    installCRDs: true,
    // Kustomizations without serviceAccountName apply as the tenant namespace's `default` account
    // (which has no rights) and may not reference sources in other namespaces.
    multitenancy: { enabled: true, defaultServiceAccount: "default", privileged: true },
    sourceController: { create: true, ...image("sourceController"), resources },
    // The rest of Flux's multi-tenancy lockdown: tenant artifacts may not pull remote bases.
    kustomizeController: {
      create: true,
      ...image("kustomizeController"),
      resources,
      container: { additionalArgs: ["--no-remote-bases=true"] },
    },
    // The pre-install job's `flux check --pre`.
    ...(images.cli === undefined ? {} : { cli: image("cli") }),
    helmController: { create: false },
    notificationController: { create: false },
    imageAutomationController: { create: false },
    imageReflectionController: { create: false },
    policies: { create: true },
    watchAllNamespaces: true,
  };
}

/** What an app's manifests may create in its namespace: workloads and their plumbing, no Secrets, no RBAC. */
export function fluxApplierRules(): k8s.types.input.rbac.v1.PolicyRule[] {
  const manage = ["get", "list", "watch", "create", "update", "patch", "delete"];
  return [
    { apiGroups: [""], resources: ["services", "configmaps", "serviceaccounts"], verbs: manage },
    { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: manage },
    { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: manage },
    { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: manage },
    { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: manage },
    // Health checks (`wait: true`) read rollout progress.
    { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get", "list", "watch"] },
    { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
  ];
}

/** The OCIRepository spec of `app`: the artifact tagged with the environment's name. */
export function ociRepositorySpec(app: FluxApp, args: FluxBootstrapArgs): Record<string, unknown> {
  return {
    interval: args.interval,
    url: app.artifactUrl,
    ref: app.digest === undefined ? { tag: args.environment } : { digest: app.digest },
    ...(args.registrySecretName === undefined
      ? {}
      : { secretRef: { name: args.registrySecretName } }),
    ...(app.verify === undefined ? {} : { verify: ociVerify(app.name, app.verify) }),
  };
}

/** Name of the Secret holding `app`'s cosign public key. */
export function cosignSecretName(app: string): string {
  return `${app}-cosign`;
}

/** The OCIRepository's `spec.verify` for `verification`. */
function ociVerify(app: string, verification: FluxArtifactVerification): Record<string, unknown> {
  return "publicKey" in verification
    ? { provider: "cosign", secretRef: { name: cosignSecretName(app) } }
    : {
        provider: "cosign",
        matchOIDCIdentity: [{ issuer: verification.issuer, subject: verification.subject }],
      };
}

/** `text` as a regular expression matching exactly itself. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Keyless verification of the artifacts of `project`: signed by a pipeline of that project (its
 * own `.gitlab-ci.yml`) on its default branch or a tag matching one of `tagPatterns` (GitLab
 * wildcards, `v*`), under `issuer` (GitLab's URL, `CI_SERVER_URL`). The subject is the Fulcio
 * certificate's SAN, `https://` + the ID token's `ci_config_ref_uri`
 * (https://docs.gitlab.com/ci/yaml/signing_examples/).
 */
export function gitlabKeylessIdentity(
  issuer: string,
  project: string,
  defaultBranch: string,
  tagPatterns: readonly string[],
): { issuer: string; subject: string } {
  const host = new URL(issuer).host + new URL(issuer).pathname.replace(/\/+$/, "");
  const refs = [
    `heads/${literal(defaultBranch)}`,
    ...tagPatterns.map((p) => `tags/${p.split("*").map(literal).join(".*")}`),
  ];
  return {
    issuer: `^${literal(issuer)}$`,
    subject: `^https://${literal(`${host}/${project}`)}//\\.gitlab-ci\\.yml@refs/(${refs.join("|")})$`,
  };
}

/** The Kustomization spec of `app`: prune what the artifact no longer contains, wait for health. */
export function kustomizationSpec(app: FluxApp, args: FluxBootstrapArgs): Record<string, unknown> {
  return {
    interval: args.interval,
    sourceRef: { kind: "OCIRepository", name: app.name },
    path: "./",
    prune: true,
    wait: true,
    timeout: "5m",
    targetNamespace: app.namespace,
    serviceAccountName: FLUX_APPLIER,
  };
}
