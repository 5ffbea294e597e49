import {
  FLUX_CHART_REPO,
  FluxApp,
  FluxBootstrap,
  FluxBootstrapArgs,
  gitlabKeylessIdentity,
  fluxApplierRules,
  fluxImageValues,
  fluxValues,
} from "../../components/flux-bootstrap";
import { record } from "../harness/component";

const args: FluxBootstrapArgs = {
  chartVersion: "2.18.3",
  interval: "1m",
  environment: "production",
  registrySecretName: "gitlab-registry-auth",
  apps: [
    { name: "web", namespace: "web", artifactUrl: "oci://registry.example.com/acme/web/manifests" },
    { name: "api", namespace: "api", artifactUrl: "oci://registry.example.com/acme/api/manifests" },
  ],
};

describe("FluxBootstrap", () => {
  test("installs the pinned flux2 chart into a restricted flux-system namespace", async () => {
    const { resources } = await record((provider) => new FluxBootstrap("flux", args, { provider }));
    expect(resources.countByType()).toEqual({
      "pulumi:providers:kubernetes": 1,
      "platform:flux:FluxBootstrap": 1,
      "platform:cluster:PlatformNamespace": 1,
      "kubernetes:core/v1:Namespace": 1,
      "kubernetes:helm.sh/v3:Release": 1,
      "kubernetes:core/v1:ServiceAccount": 2,
      "kubernetes:rbac.authorization.k8s.io/v1:Role": 2,
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": 2,
      "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository": 2,
      "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization": 2,
    });
    const ns = resources.find("kubernetes:core/v1:Namespace", "flux-namespace");
    expect(ns.inputs["metadata"]).toMatchObject({
      name: "flux-system",
      labels: { "pod-security.kubernetes.io/enforce": "restricted" },
    });
    const release = resources.find("kubernetes:helm.sh/v3:Release", "flux");
    expect(release.inputs).toMatchObject({
      name: "flux",
      chart: "flux2",
      version: "2.18.3",
      repositoryOpts: { repo: FLUX_CHART_REPO },
      namespace: "flux-system",
      atomic: true,
    });
    expect(release.inputs["values"]).toEqual(fluxValues());
    // dependsOn a component waits for its children: the Namespace.
    expect(release.dependencies).toContain(ns.urn);
  });

  test("locks Flux down for tenants and installs only the controllers OCI GitOps needs", () => {
    expect(fluxValues()).toMatchObject({
      installCRDs: true,
      multitenancy: { enabled: true, defaultServiceAccount: "default" },
      sourceController: { create: true },
      kustomizeController: {
        create: true,
        container: { additionalArgs: ["--no-remote-bases=true"] },
      },
      helmController: { create: false },
      notificationController: { create: false },
      imageAutomationController: { create: false },
      imageReflectionController: { create: false },
    });
  });

  test("each app gets an OCIRepository on its environment tag and a pruning Kustomization in its namespace", async () => {
    const { resources } = await record((provider) => new FluxBootstrap("flux", args, { provider }));
    const source = resources.find(
      "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository",
      "flux-web-source",
    );
    expect(source.inputs["metadata"]).toMatchObject({ name: "web", namespace: "web" });
    expect(source.inputs["spec"]).toEqual({
      interval: "1m",
      url: "oci://registry.example.com/acme/web/manifests",
      ref: { tag: "production" },
      secretRef: { name: "gitlab-registry-auth" },
    });
    const kustomization = resources.find(
      "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
      "flux-web-kustomization",
    );
    expect(kustomization.inputs["metadata"]).toMatchObject({ name: "web", namespace: "web" });
    expect(kustomization.inputs["spec"]).toEqual({
      interval: "1m",
      sourceRef: { kind: "OCIRepository", name: "web" },
      path: "./",
      prune: true,
      wait: true,
      timeout: "5m",
      targetNamespace: "web",
      serviceAccountName: "flux-applier",
    });
    // Custom resources wait for their CRDs (the release) and the applier's RBAC.
    const release = resources.find("kubernetes:helm.sh/v3:Release", "flux");
    expect(source.dependencies).toContain(release.urn);
    expect(kustomization.dependencies).toEqual(
      expect.arrayContaining([
        release.urn,
        source.urn,
        resources.find("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "flux-web-applier")
          .urn,
      ]),
    );
  });

  test("the applier may manage workload objects in its namespace only, never Secrets or RBAC", async () => {
    const { resources } = await record((provider) => new FluxBootstrap("flux", args, { provider }));
    const role = resources.find("kubernetes:rbac.authorization.k8s.io/v1:Role", "flux-api-applier");
    expect(role.inputs["metadata"]).toMatchObject({ name: "flux-applier", namespace: "api" });
    expect(role.inputs["rules"]).toEqual(fluxApplierRules());
    const resourcesGranted = fluxApplierRules().flatMap((r) => r.resources as string[]);
    expect(resourcesGranted).not.toContain("secrets");
    expect(resourcesGranted).not.toContain("roles");
    expect(resourcesGranted).not.toContain("rolebindings");
    expect(resources.ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")).toHaveLength(0);
    const binding = resources.find(
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
      "flux-api-applier",
    );
    expect(binding.inputs["roleRef"]).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: "flux-applier",
    });
    expect(binding.inputs["subjects"]).toEqual([
      { kind: "ServiceAccount", name: "flux-applier", namespace: "api" },
    ]);
    const sa = resources.find("kubernetes:core/v1:ServiceAccount", "flux-api-applier");
    expect(sa.inputs["automountServiceAccountToken"]).toBe(false);
  });

  test("without a pull secret the sources are anonymous; without apps only Flux is installed", async () => {
    const { resources } = await record(
      (provider) =>
        new FluxBootstrap(
          "flux",
          { ...args, namespace: "gitops", registrySecretName: undefined, apps: [args.apps[0]!] },
          { provider },
        ),
    );
    const source = resources.find(
      "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository",
      "flux-web-source",
    );
    expect(source.inputs["spec"]).not.toHaveProperty("secretRef");
    expect(resources.find("kubernetes:helm.sh/v3:Release", "flux").inputs["namespace"]).toBe(
      "gitops",
    );

    const bare = await record(
      (provider) => new FluxBootstrap("flux", { ...args, apps: [] }, { provider }),
    );
    expect(bare.resources.ofType("kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository")).toEqual(
      [],
    );
    expect(bare.resources.ofType("kubernetes:helm.sh/v3:Release")).toHaveLength(1);
  });
});

describe("images", () => {
  const DIGEST = `sha256:${"a".repeat(64)}`;

  test.each([
    // The chart renders <image>:<tag>, or <image>@<tag> when the tag is a digest.
    [
      `ghcr.io/fluxcd/source-controller:v1.8.2@${DIGEST}`,
      { image: "ghcr.io/fluxcd/source-controller", tag: `v1.8.2@${DIGEST}` },
    ],
    [
      `registry.example.com:5000/mirror/source-controller@${DIGEST}`,
      { image: "registry.example.com:5000/mirror/source-controller", tag: DIGEST },
    ],
    ["ghcr.io/fluxcd/flux-cli:v2.8.5", { image: "ghcr.io/fluxcd/flux-cli", tag: "v2.8.5" }],
  ])("%s is the chart's image and tag %j", (reference, values) => {
    expect(fluxImageValues(reference)).toEqual(values);
  });

  test.each(["ghcr.io/fluxcd/flux-cli", "https://ghcr.io/fluxcd/flux-cli:v2.8.5"])(
    "%s has no tag or digest for the chart",
    (reference) => {
      expect(() => fluxImageValues(reference)).toThrow(
        new Error(`not an image reference with a tag or digest: ${JSON.stringify(reference)}`),
      );
    },
  );

  test("the release runs the given images, and the chart's own for the rest", async () => {
    const images = {
      sourceController: `registry.example.com/mirror/source-controller:v1.8.2@${DIGEST}`,
      cli: `ghcr.io/fluxcd/flux-cli:v2.8.5@${DIGEST}`,
    };
    const { resources } = await record(
      (provider) => new FluxBootstrap("flux", { ...args, images }, { provider }),
    );
    const values = resources.find("kubernetes:helm.sh/v3:Release", "flux").inputs[
      "values"
    ] as Record<string, Record<string, unknown>>;
    expect(values["sourceController"]).toMatchObject({
      create: true,
      image: "registry.example.com/mirror/source-controller",
      tag: `v1.8.2@${DIGEST}`,
    });
    expect(values["cli"]).toEqual({ image: "ghcr.io/fluxcd/flux-cli", tag: `v2.8.5@${DIGEST}` });
    expect(values["kustomizeController"]).not.toHaveProperty("image");
    expect(values["kustomizeController"]).not.toHaveProperty("tag");
    expect(values).toEqual(fluxValues(images));
    // Without images the chart's own run: no image values at all.
    expect(fluxValues()).not.toHaveProperty("cli");
    expect(fluxValues()["sourceController"]).not.toHaveProperty("image");
  });

  test("images without a tag or digest are refused before anything is registered, one line each", () => {
    expect(
      () =>
        new FluxBootstrap("flux", {
          ...args,
          images: {
            sourceController: "registry.example.com/mirror/source-controller",
            kustomizeController: `registry.example.com/mirror/kustomize-controller@${DIGEST}`,
            cli: "flux-cli",
          },
        }),
    ).toThrow(
      new Error(
        'FluxBootstrap "flux": images.sourceController: expected an image with a tag, a digest or both, such as ghcr.io/fluxcd/flux-cli:v2.8.5@sha256:<64 hex>, got "registry.example.com/mirror/source-controller"\n' +
          'FluxBootstrap "flux": images.cli: expected an image with a tag, a digest or both, such as ghcr.io/fluxcd/flux-cli:v2.8.5@sha256:<64 hex>, got "flux-cli"',
      ),
    );
  });
});

describe("artifact verification", () => {
  const PUBLIC_KEY =
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEexample0000000000000000000000\n-----END PUBLIC KEY-----\n";
  const SOURCE = "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository";

  test("keyless: the source accepts only the app project's protected pipelines as signers", async () => {
    const identity = gitlabKeylessIdentity("https://gitlab.example.com", "acme/web", "main", [
      "v*",
    ]);
    const { resources } = await record(
      (provider) =>
        new FluxBootstrap(
          "flux",
          { ...args, apps: [{ ...(args.apps[0] as FluxApp), verify: identity }] },
          { provider },
        ),
    );
    expect(resources.find(SOURCE, "flux-web-source").inputs["spec"]).toEqual({
      interval: "1m",
      url: "oci://registry.example.com/acme/web/manifests",
      ref: { tag: "production" },
      secretRef: { name: "gitlab-registry-auth" },
      verify: {
        provider: "cosign",
        matchOIDCIdentity: [
          {
            issuer: "^https://gitlab\\.example\\.com$",
            subject:
              "^https://gitlab\\.example\\.com/acme/web//\\.gitlab-ci\\.yml@refs/(heads/main|tags/v.*)$",
          },
        ],
      },
    });
    expect(resources.ofType("kubernetes:core/v1:Secret")).toEqual([]);
  });

  test.each([
    ["https://gitlab.example.com/acme/web//.gitlab-ci.yml@refs/heads/main", true],
    ["https://gitlab.example.com/acme/web//.gitlab-ci.yml@refs/tags/v1.2.3", true],
    // Unprotected refs, other projects, other CI files, other hosts.
    ["https://gitlab.example.com/acme/web//.gitlab-ci.yml@refs/heads/feature", false],
    ["https://gitlab.example.com/acme/web//.gitlab-ci.yml@refs/heads/main2", false],
    ["https://gitlab.example.com/acme/web//.gitlab-ci.yml@refs/tags/1.2.3", false],
    ["https://gitlab.example.com/acme/webx//.gitlab-ci.yml@refs/heads/main", false],
    ["https://gitlab.example.com/acme/web/sub//.gitlab-ci.yml@refs/heads/main", false],
    ["https://gitlab.example.com/acme/web//ci/other.yml@refs/heads/main", false],
    ["https://gitlab.example.com/acme/web//.gitlab-ciXyml@refs/heads/main", false],
    ["https://gitlab.example.org/acme/web//.gitlab-ci.yml@refs/heads/main", false],
  ])("keyless subject %s is accepted: %s", (subject, accepted) => {
    const identity = gitlabKeylessIdentity("https://gitlab.example.com", "acme/web", "main", [
      "v*",
    ]);
    expect(new RegExp(identity.subject).test(subject)).toBe(accepted);
  });

  test("keyless under a relative URL root names the root in the subject and the issuer", () => {
    const identity = gitlabKeylessIdentity("https://example.com/gitlab", "acme/web", "release.1", [
      "v*",
      "release-*",
    ]);
    expect(identity).toEqual({
      issuer: "^https://example\\.com/gitlab$",
      subject:
        "^https://example\\.com/gitlab/acme/web//\\.gitlab-ci\\.yml@refs/(heads/release\\.1|tags/v.*|tags/release-.*)$",
    });
  });

  test("public key: a Secret next to the source holds cosign.pub, and the source waits for it", async () => {
    const { resources } = await record(
      (provider) =>
        new FluxBootstrap(
          "flux",
          {
            ...args,
            apps: [{ ...(args.apps[0] as FluxApp), verify: { publicKey: PUBLIC_KEY } }],
          },
          { provider },
        ),
    );
    const secret = resources.find("kubernetes:core/v1:Secret", "flux-web-cosign");
    expect(secret.inputs).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "web-cosign",
        namespace: "web",
        labels: expect.objectContaining({ "app.kubernetes.io/instance": "web" }),
      },
      type: "Opaque",
      stringData: { "cosign.pub": PUBLIC_KEY },
    });
    const source = resources.find(SOURCE, "flux-web-source");
    expect((source.inputs["spec"] as Record<string, unknown>)["verify"]).toEqual({
      provider: "cosign",
      secretRef: { name: "web-cosign" },
    });
    expect(source.dependencies).toContain(secret.urn);
  });
});
