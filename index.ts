import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { AppDeployer, AppNamespace } from "./components/app-namespace";
import { AppDeployment } from "./components/app-deployment";
import { CiVariables, PublishedAppVariables } from "./components/ci-variables";
import { FluxBootstrap, gitlabKeylessIdentity } from "./components/flux-bootstrap";
import { GitLabAgent } from "./components/gitlab-agent";
import { resolvePromotions } from "./components/image-promotion";
import { GitLabEnvironments } from "./components/gitlab-environments";
import { exactTagRegex, GitLabProtection } from "./components/gitlab-protection";
import { GitLabRunner } from "./components/gitlab-runner";
import { agentKubeContext, ciJobProjectGroup, impersonatedAppUser } from "./components/identities";
import { PlatformNamespace } from "./components/platform-namespace";
import { RegistryAuth } from "./components/registry-auth";
import { AppSettings, inspectGitLab, loadEnvironmentConfig } from "./stacks";

/**
 * Composition only: which components this stack gets, wired how. Config is read and validated
 * once, up front; a bad config throws before any resource is registered. An async program, so the
 * engine-version check below also completes before the first registration. The returned object is
 * the stack's outputs.
 */
export = async () => {
  const validated = loadEnvironmentConfig();

  // Runner token rotation relies on the `replacementTrigger` option, which older engines ignore
  // silently: fail, before anything is registered, instead of pretending to rotate.
  await pulumi.requirePulumiVersion(">=3.208.0");

  // What only GitLab can say (version, KAS, project ids), also before anything is registered.
  const config = await inspectGitLab(validated);
  const { features, gitlab } = config;

  // Promoted tags, resolved to their digests in the registry before anything that uses them is
  // registered: a tag that does not exist stops the run here. Flux apps promote their manifests
  // artifact, the others their image.
  const promoted = await resolvePromotions(
    config.apps
      .filter((app) => app.promote !== undefined)
      .map((app) => ({
        app: app.name,
        at: `apps[${config.apps.indexOf(app)}].image.promote`,
        repository:
          app.method === "flux" ? `${app.image.repository}/manifests` : app.image.repository,
        tag: app.promote ?? "",
      })),
    {
      registryHost: gitlab.registryHost,
      username: config.promotion?.username ?? "",
      token: config.promotion?.token ?? "",
    },
  );

  // An explicit provider for the stack's own context. Default providers are disabled in Pulumi.yaml,
  // so nothing in this program can reach another cluster by accident.
  const cluster = new k8s.Provider("cluster", {
    context: config.kubeContext,
    enableServerSideApply: true,
  });
  const opts = { provider: cluster };

  // The managed namespace holds the runner manager and its token, and the job pods unless they
  // have a namespace of their own (always for a privileged runner). Job images commonly run as
  // root, so a namespace with job pods enforces `baseline` (`privileged` for a privileged runner's
  // own jobs namespace) and warns at `restricted`; without job pods the manager's enforces
  // `restricted`, which the manager meets.
  const jobNamespaceName = config.runner.jobNamespace;
  const managed = features.runner
    ? new PlatformNamespace(
        "managed",
        {
          name: config.namespace.name,
          component: "gitlab-managed-apps",
          podSecurity: jobNamespaceName === undefined ? "baseline" : "restricted",
          quota: config.namespace.quota,
          limitRange: config.namespace.limitRange,
        },
        opts,
      )
    : undefined;
  const runnerJobs =
    features.runner && jobNamespaceName !== undefined
      ? new PlatformNamespace(
          "runner-jobs",
          {
            name: jobNamespaceName,
            component: "gitlab-runner-jobs",
            podSecurity: config.runner.privileged ? "privileged" : "baseline",
            quota: config.namespace.quota,
            limitRange: config.namespace.limitRange,
          },
          opts,
        )
      : undefined;

  // agentk runs apart from the runner: job pods (which may create pods and read Secrets in their
  // namespace) must never run as the agent's ServiceAccount or read its token.
  const agentNamespace = features.agent
    ? new PlatformNamespace(
        "agent-namespace",
        { name: config.agent.namespace, component: "gitlab-agent", podSecurity: "restricted" },
        opts,
      )
    : undefined;

  const agentApps = features.apps ? config.apps.filter((a) => a.method === "agent") : [];
  const agent =
    agentNamespace !== undefined
      ? new GitLabAgent(
          "agent",
          {
            ...config.agent,
            namespace: agentNamespace.name,
            projectPath: gitlab.projectPath,
            branch: gitlab.defaultBranch,
            apps: agentApps.map((a) => ({
              name: a.name,
              project: a.project,
              namespace: a.namespace,
            })),
            // Who may use the agent at all: protected refs (staging, production) and jobs that
            // declare this stack's environment, so no job skips its protection by declaring none.
            protectedBranchesOnly: config.agent.protectedBranchesOnly,
            environments: config.agent.restrictToEnvironment ? [gitlab.environmentScope] : [],
          },
          opts,
        )
      : undefined;

  const runner =
    managed !== undefined && features.runner
      ? new GitLabRunner(
          "runner",
          {
            ...config.runner,
            namespace: managed.name,
            jobNamespace: runnerJobs?.name,
            // Job pods reach cluster DNS and the world outside the cluster, nothing inside it.
            jobNetwork: {
              clusterCidrs: config.namespace.network.clusterCidrs,
              dns: config.appNamespaces.network.dns,
            },
            gitlabUrl: gitlab.url,
            projectId: config.runner.scope === "project" ? gitlab.projectId : undefined,
            groupId: config.runner.scope === "group" ? gitlab.groupId : undefined,
          },
          opts,
        )
      : undefined;

  /** Who may deploy `app`: the identity its deploy method puts behind the `deployer` Role. */
  function deployerOf(app: AppSettings): AppDeployer {
    switch (app.method) {
      case "flux":
        return { kind: "flux" };
      case "direct":
        // Config validation guarantees kubeApiServer for direct apps.
        return {
          kind: "direct",
          apiServer: config.kubeApiServer ?? "",
          clusterName: config.stack,
          rotation: app.tokenRotation,
        };
      case "agent":
        switch (config.agent.accessAs) {
          case "impersonate":
            return {
              kind: "impersonate",
              username: impersonatedAppUser(config.agent.name, app.name),
            };
          case "ci_job":
            // The app's own project's jobs only, not every authorized project's (gitlab:ci_job).
            return {
              kind: "ci_job",
              group: ciJobProjectGroup(config.instance.projectIds[app.project] ?? 0),
            };
          case "agent":
            return {
              kind: "agent",
              serviceAccountName: agent?.serviceAccountName ?? "",
              serviceAccountNamespace: config.agent.namespace,
            };
        }
    }
  }

  const apps = features.apps ? config.apps : [];
  const appNamespaces = new Map<string, AppNamespace>();
  const urls: Record<string, pulumi.Output<string>> = {};
  for (const app of apps) {
    const ns = new AppNamespace(
      `app-${app.name}`,
      {
        app: app.name,
        namespace: app.namespace,
        method: app.method,
        // A deployer may change replicas and resources: the quota bounds what its pipeline can take.
        quota: app.quota,
        limitRange: config.appNamespaces.limitRange,
        // Default deny in and out, except DNS, the ingress controller and the app's own egress.
        network: { ...config.appNamespaces.network, egress: app.egress },
        // Review stacks: the review CI/CD component creates an app per merge request.
        reviewApps: config.environment === "review",
        // Who writes in the namespace may route only the app's own hosts and, unless allowed,
        // expose nothing beyond the cluster: enforced at admission.
        exposure: {
          ingressHosts: [
            ...(app.ingress === undefined ? [] : [app.ingress.host]),
            ...app.allowedHosts,
          ],
          allowExternalServices: app.allowExternalServices,
        },
        ...(features.registryAuth ? { imagePullSecret: config.registryAuth.secretName } : {}),
        deployer: deployerOf(app),
      },
      opts,
    );
    appNamespaces.set(app.name, ns);
  }

  // Registry pull secrets. By default one read_registry deploy token per app project, in that
  // app's namespace only: a compromised namespace can pull only its own app's images.
  const registries = new Map<string, RegistryAuth>();
  const namespaceOutputs = (keys: readonly string[]) =>
    Object.fromEntries(keys.map((app) => [app, appNamespaces.get(app)?.namespace ?? app]));
  if (features.registryAuth && config.registryAuth.scope === "app") {
    for (const app of apps) {
      registries.set(
        app.name,
        new RegistryAuth(
          `registry-${app.name}`,
          {
            ...config.registryAuth,
            scope: "project",
            project: app.project,
            registryHost: gitlab.registryHost,
            namespaces: namespaceOutputs([app.name]),
          },
          opts,
        ),
      );
    }
  } else if (features.registryAuth) {
    const shared = new RegistryAuth(
      "registry",
      {
        ...config.registryAuth,
        scope: config.registryAuth.scope === "group" ? "group" : "project",
        project: gitlab.projectPath,
        group: gitlab.groupPath,
        registryHost: gitlab.registryHost,
        namespaces: namespaceOutputs(apps.map((a) => a.name)),
      },
      opts,
    );
    apps.forEach((app) => registries.set(app.name, shared));
  }

  // The workloads CI deploys (Flux owns its apps' objects).
  for (const app of apps) {
    const ns = appNamespaces.get(app.name);
    if (app.method === "flux" || ns === undefined) {
      continue;
    }
    const digest = promoted.get(app.name);
    const deployment = new AppDeployment(
      `app-${app.name}`,
      {
        ...app,
        app: app.name,
        method: app.method,
        namespace: ns.namespace,
        serviceAccountName: ns.serviceAccountName,
        environment: config.environment,
        ...(digest === undefined ? {} : { promotedDigest: digest }),
      },
      opts,
    );
    if (deployment.url !== undefined) {
      urls[app.name] = deployment.url;
    }
  }

  // Flux pulls each app's artifact with the pull secret in the app's own namespace.
  const flux = features.flux
    ? new FluxBootstrap(
        "flux",
        {
          namespace: config.flux.namespace,
          chartVersion: config.flux.chartVersion,
          ...(config.flux.chartRepository === undefined
            ? {}
            : { chartRepository: config.flux.chartRepository }),
          interval: config.flux.interval,
          images: config.flux.images,
          environment: config.environment,
          ...(features.registryAuth ? { registrySecretName: config.registryAuth.secretName } : {}),
          apps: apps
            .filter((a) => a.method === "flux")
            .map((a) => {
              const pullSecret = registries.get(a.name)?.secrets[a.name];
              const digest = promoted.get(a.name);
              const verify = config.flux.verify;
              const verification =
                verify?.publicKey !== undefined
                  ? { publicKey: verify.publicKey }
                  : verify?.keyless !== undefined
                    ? gitlabKeylessIdentity(
                        verify.keyless.issuer,
                        a.project,
                        config.instance.defaultBranches[a.project] ?? "",
                        config.protection.releaseTags.patterns,
                      )
                    : undefined;
              return {
                name: a.name,
                namespace: appNamespaces.get(a.name)?.namespace ?? a.namespace,
                artifactUrl: `oci://${a.image.repository}/manifests`,
                ...(pullSecret === undefined ? {} : { pullSecret }),
                ...(digest === undefined ? {} : { digest }),
                ...(verification === undefined ? {} : { verify: verification }),
              };
            }),
        },
        opts,
      )
    : undefined;

  const published: PublishedAppVariables[] = apps.map((app) => {
    const ns = appNamespaces.get(app.name);
    return {
      app: app.name,
      project: app.project,
      environmentScope: gitlab.environmentScope,
      protectCredentials: gitlab.protectPublishedCredentials,
      hideToken: config.instance.hiddenVariables,
      namespace: app.namespace,
      imageRepository: app.image.repository,
      ...(app.method === "agent" && agent !== undefined ? { kubeContext: agent.kubeContext } : {}),
      ...(ns?.kubeconfig !== undefined && ns.kubeToken !== undefined
        ? { kubeconfig: ns.kubeconfig, kubeToken: ns.kubeToken }
        : {}),
    };
  });
  const variables = features.ciVariables
    ? new CiVariables(
        "ci",
        {
          projectPath: gitlab.projectPath,
          groupPath: gitlab.groupPath,
          variables: config.ciVariables,
          published,
          adoptExisting: gitlab.adoptExisting.includes("variables"),
        },
        opts,
      )
    : undefined;

  // GitLab environments in the app projects: deployment history and (production) who may deploy.
  // They name no agent: GitLab resolves `cluster_agent_id` among the environment's own project's
  // agents and also requires a user_access authorization of that project, which exists only once
  // agentk has connected (see docs: "GitLab environments and the agent"). The platform's agent
  // lives in the platform project, so naming it would fail every app project's first `up`.
  const environments =
    features.environments && apps.length > 0
      ? new GitLabEnvironments(
          "environments",
          {
            name: config.environments.name,
            tier: config.environments.tier,
            adoptExisting: gitlab.adoptExisting.includes("environments"),
            ...(config.environments.protected
              ? {
                  protection: {
                    deployAccessLevel: config.environments.deployAccessLevel,
                    requiredApprovalCount: config.environments.requiredApprovals,
                  },
                }
              : {}),
            apps: apps.map((app) => ({
              app: app.name,
              project: app.project,
              namespace: app.namespace,
              ...(urls[app.name] === undefined ? {} : { url: urls[app.name] }),
            })),
          },
          opts,
        )
      : undefined;

  // Protection of what deploys: each project's default branch and release tags (by the one stack
  // that manages them), and the container tag Flux follows in this environment.
  const adopting = (kind: (typeof gitlab.adoptExisting)[number]) =>
    gitlab.adoptExisting.includes(kind);
  const fluxProjects = apps.filter((a) => a.method === "flux").map((a) => a.project);
  const protectEnvironmentTags =
    config.protection.environmentTags && features.flux && fluxProjects.length > 0;
  const protection =
    config.protection.manage || protectEnvironmentTags
      ? new GitLabProtection(
          "protection",
          {
            projects: config.protection.manage
              ? [...new Set([gitlab.projectPath, ...apps.map((a) => a.project)])].map(
                  (project) => ({
                    project,
                    defaultBranch: config.instance.defaultBranches[project] ?? "",
                  }),
                )
              : [],
            defaultBranch: config.protection.defaultBranch,
            releaseTags: config.protection.releaseTags,
            ...(protectEnvironmentTags
              ? {
                  environmentTags: {
                    projects: [...new Set(fluxProjects)],
                    tagRegex: exactTagRegex(config.environment),
                  },
                }
              : {}),
            // Where no one may push, the program's own user still commits the agents' files.
            ...(config.protection.manage &&
            config.protection.defaultBranch.programPush &&
            config.instance.tokenUser !== undefined
              ? {
                  programPush: {
                    project: gitlab.projectPath,
                    userId: config.instance.tokenUser.id,
                  },
                }
              : {}),
            // The agents' authorization files need their code owners' approval (Premium).
            ...(config.protection.manage && config.agent.codeOwners.length > 0
              ? { codeOwners: { project: gitlab.projectPath, owners: config.agent.codeOwners } }
              : {}),
            adopt: {
              branches: adopting("protectedBranches"),
              tags: adopting("protectedTags"),
              containerTags: adopting("protectedContainerTags"),
              codeOwners: adopting("codeOwners"),
            },
          },
          opts,
        )
      : undefined;

  return {
    environment: config.environment,
    kubeContext: config.kubeContext,
    clusterProvider: cluster.urn,
    managedNamespace: managed?.name,
    agentNamespaceName: agentNamespace?.name,
    runnerId: runner?.runnerId,
    agentId: agent?.agentId,
    /** What app pipelines pass to `kubectl config use-context` (agent apps). */
    ciKubeContext:
      agent === undefined ? undefined : agentKubeContext(gitlab.projectPath, config.agent.name),
    registrySecretName: features.registryAuth ? config.registryAuth.secretName : undefined,
    /** Expiry (`YYYY-MM-DD`) of the deploy token behind each app's pull secret. */
    registryTokenExpiresAt: Object.fromEntries(
      [...registries].map(([app, registry]) => [app, registry.expiresAt]),
    ),
    appNamespaceNames: Object.fromEntries(
      [...appNamespaces].map(([app, ns]) => [app, ns.namespace]),
    ),
    appUrls: urls,
    ciVariableIds: variables?.variableIds,
    fluxNamespace: flux?.namespace,
    gitlabEnvironmentIds: environments?.environmentIds,
    /** The digest each promoted tag resolved to (what runs, for review in the preview). */
    promotedDigests: Object.fromEntries(promoted),
    /** Projects whose default branch and release tags this stack protects. */
    protectedProjects: protection === undefined ? [] : Object.keys(protection.branches),
  };
};
