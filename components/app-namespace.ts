import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { deployerKubeconfig } from "./kubeconfig";
import { standardLabels } from "./labels";
import { NamespaceLimitRange, NamespaceQuota, PlatformNamespace } from "./platform-namespace";
import { DNS_LABEL, DNS_SUBDOMAIN } from "./formats";
import {
  ADMISSION_GUARDS,
  AppExposure,
  admissionBindingSpec,
  admissionPolicyName,
  admissionPolicySpecs,
  appExposureProblems,
} from "./app-admission";

/**
 * How an app reaches the cluster (the values of the stack config's `apps[].method`): Flux pulls an
 * OCI artifact, CI deploys through the GitLab agent, or CI deploys with a namespaced deployer
 * ServiceAccount.
 */
export const DEPLOY_METHODS = ["flux", "agent", "direct"] as const;
/** One of {@link DEPLOY_METHODS}. */
export type AppDeployMethod = (typeof DEPLOY_METHODS)[number];

/**
 * Who may deploy the app, i.e. whom the `deployer` Role is bound to:
 * - `direct`: CI authenticates with the token of a ServiceAccount `<app>-deployer` made here;
 * - `impersonate`: the GitLab agent impersonates a per-app user (`impersonatedAppUser`);
 * - `ci_job`: the agent's `ci_job` mode; the app project's CI jobs carry `group` (`ciJobProjectGroup`);
 * - `agent`: the agent's own ServiceAccount;
 * - `flux`: Flux applies the app; no CI identity, no Role.
 */
export type AppDeployer =
  | {
      readonly kind: "direct";
      /** API server URL CI jobs use, `https://…`. */
      readonly apiServer: string;
      /** Cluster name in the generated kubeconfig. */
      readonly clusterName: string;
      /**
       * Token rotation marker. Changing it replaces the token Secret (the old token is revoked
       * when its Secret is deleted, then a new one is issued), and the published `KUBE_TOKEN`
       * follows. Default `"1"`.
       */
      readonly rotation?: string;
    }
  | {
      readonly kind: "impersonate";
      /** The Kubernetes user the agent impersonates for this app's CI jobs. */
      readonly username: string;
    }
  | {
      readonly kind: "ci_job";
      /** The Kubernetes group of the CI job identities to bind. */
      readonly group: string;
    }
  | {
      readonly kind: "agent";
      /** The agent's ServiceAccount. */
      readonly serviceAccountName: string;
      /** The agent's namespace. */
      readonly serviceAccountNamespace: pulumi.Input<string>;
    }
  | { readonly kind: "flux" };

/** Egress an app needs besides cluster DNS: a CIDR or a namespace, on some ports. */
export interface AppEgress {
  /** An IP block, e.g. `10.20.0.0/16` (a database subnet). Exactly one of `cidr` and `namespace`. */
  readonly cidr?: string;
  /** A namespace of this cluster whose pods the app calls. */
  readonly namespace?: string;
  /** Destination ports. */
  readonly ports: readonly { readonly port: number; readonly protocol?: "TCP" | "UDP" }[];
}

/** Who may talk to the app's pods, and whom they may talk to. */
export interface AppNetwork {
  /** Namespaces whose pods may reach the app's pods (the ingress controller's), besides its own. */
  readonly ingressNamespaces: readonly string[];
  /** Where cluster DNS runs: its namespace and its pods' labels (`k8s-app: kube-dns`). */
  readonly dns: {
    readonly namespace: string;
    readonly podLabels: Readonly<Record<string, string>>;
  };
  /** What else the app may reach. Default none. */
  readonly egress?: readonly AppEgress[];
}

/** Arguments of {@link AppNamespace}. */
export interface AppNamespaceArgs {
  /** The app's name, a DNS-1123 label; also the name of its runtime ServiceAccount. */
  readonly app: string;
  /** The app's namespace (created here, fixed name), a DNS-1123 label. */
  readonly namespace: string;
  /**
   * How the app is deployed; must fit `deployer.kind`: `direct` ⇔ `direct`, `flux` ⇔ `flux`,
   * `agent` ⇔ `impersonate`, `ci_job` or `agent`.
   */
  readonly method: AppDeployMethod;
  /** ResourceQuota of the namespace; none when omitted. */
  readonly quota?: NamespaceQuota;
  /** LimitRange of the namespace; none when omitted. */
  readonly limitRange?: NamespaceLimitRange;
  /**
   * Name of the registry pull Secret in the namespace, listed in the runtime ServiceAccount's
   * `imagePullSecrets`. None when omitted (registry auth off).
   */
  readonly imagePullSecret?: string;
  /** Who may deploy. */
  readonly deployer: AppDeployer;
  /**
   * NetworkPolicies: deny all traffic in and out of the namespace's pods except what `network`
   * allows (DNS, the ingress controller, the app's own egress). Default none (no NetworkPolicy).
   */
  readonly network?: AppNetwork;
  /**
   * Review apps: the deployer may also create and delete Deployments, Services and Ingresses in
   * the namespace ({@link REVIEW_DEPLOYER_RULES}), as the `review` CI/CD component does for every
   * merge request. Default `false`: the deployer only rolls out the existing Deployment.
   */
  readonly reviewApps?: boolean;
  /**
   * What the namespace may expose, enforced at admission for everyone who writes there
   * (`components/app-admission.ts`): the Ingress hosts it may route and whether LoadBalancer,
   * NodePort and `externalIPs` Services are allowed. Default none (no admission policies).
   */
  readonly exposure?: AppExposure;
}

/** The Kubernetes name of the Role (and RoleBinding) CI deploys with. */
export const DEPLOYER_ROLE = "deployer";

/**
 * What a CI job needs to roll out and roll back an existing Deployment and watch it, and no more:
 * - deployments get/list/watch: `kubectl rollout status` lists and watches the Deployment;
 *   patch: `kubectl set image`, `rollout undo|restart|pause|resume` and `apply` patch it; update:
 *   tools that PUT the object (`kubectl replace`, some deploy tools). update grants nothing patch
 *   doesn't. No create/delete: the Deployment exists already and is not CI's to remove;
 *   no deployments/scale: replicas are the platform's, not the pipeline's.
 * - replicasets get/list/watch: `rollout undo` and `rollout history` read the revisions kept in
 *   the ReplicaSets; `describe deployment` shows them. Read only.
 * - pods get/list/watch and pods/log get: find why a rollout is stuck (`kubectl get pods`,
 *   `kubectl logs deploy/<app>`). No pods/exec, no pods/attach, no port-forward.
 * - events get/list/watch: `kubectl describe` and `kubectl events` show scheduling/pull failures.
 * watch reveals nothing list does not. Namespaced only, no Secrets or ConfigMaps, no RBAC.
 *
 * Limit worth knowing: whoever may patch a Deployment may change its pod template, e.g. mount a
 * Secret of the namespace and print it in the logs. The deployer can therefore read what its own
 * namespace holds (the pull secret, the deployer token), nothing beyond it; keep credentials CI
 * must not see out of app namespaces. Restricting patches to the image would need an admission
 * policy; the namespace's ingress and service guards (`app-admission.ts`) cover Ingress hosts and
 * Service exposure only.
 */
export const DEPLOYER_RULES: readonly k8s.types.input.rbac.v1.PolicyRule[] = [
  {
    apiGroups: ["apps"],
    resources: ["deployments"],
    verbs: ["get", "list", "watch", "patch", "update"],
  },
  { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
  { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
];

/**
 * What the `review` CI/CD component (templates/review.yml) needs besides {@link DEPLOYER_RULES}:
 * create one Deployment, Service and Ingress per merge request and delete them when it closes.
 * Namespaced, in a namespace that holds nothing but this app's review objects, under its quota.
 */
export const REVIEW_DEPLOYER_RULES: readonly k8s.types.input.rbac.v1.PolicyRule[] = [
  { apiGroups: ["apps"], resources: ["deployments"], verbs: ["create", "delete"] },
  {
    apiGroups: [""],
    resources: ["services"],
    verbs: ["get", "list", "watch", "create", "patch", "delete"],
  },
  {
    apiGroups: ["networking.k8s.io"],
    resources: ["ingresses"],
    verbs: ["get", "list", "watch", "create", "patch", "delete"],
  },
];

/**
 * A namespace for one application: the namespace (restricted Pod Security, optional quota and
 * LimitRange), the app's runtime ServiceAccount, and a `deployer` Role bound to whoever deploys it.
 * For `direct` apps also a deployer ServiceAccount with a long-lived token Secret, and the
 * kubeconfig and token CI publishes as variables (`kubeconfig`, `kubeToken`).
 */
export class AppNamespace extends pulumi.ComponentResource {
  /** The namespace's name, known once the Namespace exists. */
  public readonly namespace: pulumi.Output<string>;
  /** The runtime ServiceAccount's name (the app's name). */
  public readonly serviceAccountName: pulumi.Output<string>;
  /** `direct` only: the deployer ServiceAccount's token (secret), for the masked `KUBE_TOKEN`. */
  public readonly kubeToken: pulumi.Output<string> | undefined;
  /** `direct` only: the deployer kubeconfig (secret; holds no token, reads `$KUBE_TOKEN`). */
  public readonly kubeconfig: pulumi.Output<string> | undefined;

  constructor(name: string, args: AppNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validated before anything is registered, the component included.
    validateAppNamespaceArgs(name, args);
    super("platform:apps:AppNamespace", name, {}, opts);

    const platformNamespace = new PlatformNamespace(
      `${name}-namespace`,
      {
        name: args.namespace,
        component: "app",
        podSecurity: "restricted",
        ...(args.quota === undefined ? {} : { quota: args.quota }),
        ...(args.limitRange === undefined ? {} : { limitRange: args.limitRange }),
      },
      { parent: this },
    );
    // Every namespaced child takes the namespace from this Output, so it waits for the Namespace.
    const namespace = platformNamespace.name;
    this.namespace = namespace;

    if (args.exposure !== undefined) {
      // Cluster-scoped; bind by the namespace's name, so they may exist before the namespace.
      const labels = standardLabels("admission", args.app);
      const specs = admissionPolicySpecs(args.namespace, args.exposure);
      const bindings = ADMISSION_GUARDS.flatMap((guard) => {
        const spec = specs[guard];
        if (spec === undefined) return [];
        const policyName = admissionPolicyName(args.namespace, guard);
        const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
          `${name}-${guard}-guard`,
          { metadata: { name: policyName, labels }, spec },
          { parent: this },
        );
        return [
          new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            `${name}-${guard}-guard`,
            {
              metadata: { name: policyName, labels },
              spec: admissionBindingSpec(args.namespace, policy.metadata.name),
            },
            { parent: this },
          ),
        ];
      });
      // What is created in the namespace through this Output (the app's Service and Ingress)
      // waits for the bindings: a changed host is allowed before the Ingress naming it is applied.
      const bound = pulumi.all(bindings.map((b) => b.metadata.name));
      this.namespace = pulumi.all([namespace, bound]).apply(([ns]) => ns);
    }

    const runtimeAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      {
        metadata: { name: args.app, namespace, labels: standardLabels("app", args.app) },
        // The app does not call the Kubernetes API; a pod that needs to can opt in itself.
        automountServiceAccountToken: false,
        ...(args.imagePullSecret === undefined
          ? {}
          : { imagePullSecrets: [{ name: args.imagePullSecret }] }),
      },
      { parent: this },
    );
    this.serviceAccountName = runtimeAccount.metadata.name;

    const deployerLabels = standardLabels("deployer", args.app);
    const deployer = args.deployer;
    let kubeToken: pulumi.Output<string> | undefined;
    let kubeconfig: pulumi.Output<string> | undefined;
    let subject: k8s.types.input.rbac.v1.Subject | undefined;

    if (deployer.kind === "direct") {
      const account = new k8s.core.v1.ServiceAccount(
        `${name}-deployer-sa`,
        {
          metadata: { name: deployerAccountName(args.app), namespace, labels: deployerLabels },
          // Only CI uses this identity, through the token below; no pod runs as it.
          automountServiceAccountToken: false,
        },
        { parent: this },
      );
      // A long-lived token Secret: CI jobs run outside the cluster and cannot use the
      // TokenRequest API without a credential to begin with. pulumi-kubernetes (since 3.20, still
      // in v4: `untilCoreV1SecretInitialized` in provider/pkg/await/awaiters.go, PR #2048) waits
      // on create for a `kubernetes.io/service-account-token` Secret until its `data` is filled in
      // by the token controller (at most 5 s), so `data.token` is there when the create returns.
      // dependsOn the ServiceAccount: the token controller removes token Secrets whose account
      // does not exist, and creating one first is what pulumi-kubernetes #4396 panicked on.
      const tokenSecret = new k8s.core.v1.Secret(
        `${name}-deployer-token`,
        {
          metadata: {
            name: `${deployerAccountName(args.app)}-token`,
            namespace,
            labels: deployerLabels,
            annotations: { "kubernetes.io/service-account.name": deployerAccountName(args.app) },
          },
          type: "kubernetes.io/service-account-token",
        },
        {
          parent: this,
          dependsOn: [account],
          // Rotation: a new marker replaces the Secret. Deleted first, since its name is fixed;
          // deleting it is what revokes the old token (the token controller invalidates it).
          replacementTrigger: deployer.rotation ?? "1",
          deleteBeforeReplace: true,
        },
      );
      kubeToken = pulumi.secret(
        tokenSecret.data.apply((data) => decodeBase64(requireKey(data, "token", args.app))),
      );
      kubeconfig = pulumi.secret(
        pulumi.all([tokenSecret.data, namespace]).apply(([data, ns]) =>
          deployerKubeconfig({
            clusterName: deployer.clusterName,
            server: deployer.apiServer,
            // Already base64 in the Secret, as kubeconfig's `*-data` fields want it.
            certificateAuthorityData: requireKey(data, "ca.crt", args.app),
            namespace: ns,
            userName: deployerAccountName(args.app),
          }),
        ),
      );
      subject = { kind: "ServiceAccount", name: account.metadata.name, namespace };
    } else if (deployer.kind !== "flux") {
      subject = deployerSubject(deployer);
    }

    if (args.network !== undefined) {
      const labels = standardLabels("network", args.app);
      for (const [suffix, spec] of Object.entries(networkPolicySpecs(args.network))) {
        new k8s.networking.v1.NetworkPolicy(
          `${name}-${suffix}`,
          { metadata: { name: suffix, namespace, labels }, spec },
          { parent: this },
        );
      }
    }

    // Flux applies with its own identity: no CI subject, so no Role that nothing would use.
    if (subject !== undefined) {
      const role = new k8s.rbac.v1.Role(
        `${name}-deployer-role`,
        {
          metadata: { name: DEPLOYER_ROLE, namespace, labels: deployerLabels },
          rules: [...DEPLOYER_RULES, ...(args.reviewApps === true ? REVIEW_DEPLOYER_RULES : [])],
        },
        { parent: this },
      );
      new k8s.rbac.v1.RoleBinding(
        `${name}-deployer-binding`,
        {
          metadata: { name: DEPLOYER_ROLE, namespace, labels: deployerLabels },
          roleRef: {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "Role",
            name: role.metadata.name,
          },
          subjects: [subject],
        },
        { parent: this },
      );
    }

    this.kubeToken = kubeToken;
    this.kubeconfig = kubeconfig;
    this.registerOutputs({
      namespace: this.namespace,
      serviceAccountName: this.serviceAccountName,
      kubeToken: this.kubeToken,
      kubeconfig: this.kubeconfig,
    });
  }
}

/** Selects the pods of a namespace by its name (the label Kubernetes sets on every namespace). */
function namespaceNamed(name: string): k8s.types.input.meta.v1.LabelSelector {
  return { matchLabels: { "kubernetes.io/metadata.name": name } };
}

/**
 * The NetworkPolicies of an app namespace, by name. `default-deny` selects every pod for both
 * directions with no rule, so anything not allowed by another policy is dropped: a compromised pod
 * cannot reach the runner, the agent, other apps or the cloud metadata address. The others allow
 * DNS, traffic within the namespace and from the ingress namespaces, and the app's own egress.
 */
export function networkPolicySpecs(
  network: AppNetwork,
): Record<string, k8s.types.input.networking.v1.NetworkPolicySpec> {
  const all = {};
  const specs: Record<string, k8s.types.input.networking.v1.NetworkPolicySpec> = {
    "default-deny": { podSelector: all, policyTypes: ["Ingress", "Egress"] },
    "allow-dns": {
      podSelector: all,
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: namespaceNamed(network.dns.namespace),
              podSelector: { matchLabels: { ...network.dns.podLabels } },
            },
          ],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    },
    "allow-ingress": {
      podSelector: all,
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            { podSelector: all },
            ...network.ingressNamespaces.map((ns) => ({ namespaceSelector: namespaceNamed(ns) })),
          ],
        },
      ],
    },
  };
  const egress = network.egress ?? [];
  if (egress.length > 0) {
    specs["allow-egress"] = {
      podSelector: all,
      policyTypes: ["Egress"],
      egress: egress.map((e) => ({
        to: [
          e.cidr !== undefined
            ? { ipBlock: { cidr: e.cidr } }
            : { namespaceSelector: namespaceNamed(e.namespace ?? "") },
        ],
        ports: e.ports.map((p) => ({ protocol: p.protocol ?? "TCP", port: p.port })),
      })),
    };
  }
  return specs;
}

/** The deployer ServiceAccount of a `direct` app: `<app>-deployer`. */
export function deployerAccountName(app: string): string {
  return `${app}-deployer`;
}

/** The RoleBinding subject for an agent-side deployer (the `direct` one is built in the class). */
export function deployerSubject(
  deployer: Exclude<AppDeployer, { kind: "direct" } | { kind: "flux" }>,
): k8s.types.input.rbac.v1.Subject {
  switch (deployer.kind) {
    case "impersonate":
      return { apiGroup: "rbac.authorization.k8s.io", kind: "User", name: deployer.username };
    case "ci_job":
      return { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: deployer.group };
    case "agent":
      return {
        kind: "ServiceAccount",
        name: deployer.serviceAccountName,
        namespace: deployer.serviceAccountNamespace,
      };
  }
}

function labelProblem(value: string): string | undefined {
  return DNS_LABEL.test(value) && value.length <= 63
    ? undefined
    : `expected a DNS-1123 label (a-z, 0-9 and '-', at most 63 characters), got ${JSON.stringify(value)}`;
}

function subdomainProblem(value: string): string | undefined {
  return DNS_SUBDOMAIN.test(value) && value.length <= 253
    ? undefined
    : `expected a DNS-1123 subdomain, got ${JSON.stringify(value)}`;
}

function nonEmptyProblem(value: string): string | undefined {
  return value.trim() === "" ? "must not be empty" : undefined;
}

/** The method each deployer kind belongs to. */
const METHOD_OF: Readonly<Record<AppDeployer["kind"], AppDeployMethod>> = {
  direct: "direct",
  impersonate: "agent",
  ci_job: "agent",
  agent: "agent",
  flux: "flux",
};

/** Throws one error listing every problem of `args`, each prefixed with the component's label. */
export function validateAppNamespaceArgs(name: string, args: AppNamespaceArgs): void {
  const d = args.deployer;
  const checks: [string, string | undefined][] = [
    ["app", labelProblem(args.app)],
    ["namespace", labelProblem(args.namespace)],
    [
      "deployer.kind",
      METHOD_OF[d.kind] === args.method
        ? undefined
        : `${JSON.stringify(d.kind)} does not fit method ${JSON.stringify(args.method)}`,
    ],
    [
      "imagePullSecret",
      args.imagePullSecret === undefined ? undefined : subdomainProblem(args.imagePullSecret),
    ],
  ];
  if (d.kind === "direct") {
    checks.push(
      [
        "deployer.apiServer",
        /^https:\/\/[^\s/]+/.test(d.apiServer)
          ? undefined
          : `expected an https:// URL, got ${JSON.stringify(d.apiServer)}`,
      ],
      ["deployer.clusterName", nonEmptyProblem(d.clusterName)],
    );
  } else if (d.kind === "impersonate") {
    checks.push(["deployer.username", nonEmptyProblem(d.username)]);
  } else if (d.kind === "ci_job") {
    checks.push(["deployer.group", nonEmptyProblem(d.group)]);
  } else if (d.kind === "agent") {
    checks.push(["deployer.serviceAccountName", subdomainProblem(d.serviceAccountName)]);
  }
  if (args.network !== undefined) {
    checks.push(...networkChecks(args.network));
  }
  if (args.exposure !== undefined) {
    checks.push(...appExposureProblems(args.exposure));
  }
  const problems = checks.filter((c): c is [string, string] => c[1] !== undefined);
  if (problems.length > 0) {
    throw new Error(
      problems.map(([path, problem]) => `AppNamespace "${name}": ${path}: ${problem}`).join("\n"),
    );
  }
}

const CIDR = /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/;

function networkChecks(n: AppNetwork): [string, string | undefined][] {
  const checks: [string, string | undefined][] = [
    ["network.dns.namespace", labelProblem(n.dns.namespace)],
    ...n.ingressNamespaces.map((ns, i): [string, string | undefined] => [
      `network.ingressNamespaces[${i}]`,
      labelProblem(ns),
    ]),
  ];
  (n.egress ?? []).forEach((e, i) => {
    const at = `network.egress[${i}]`;
    checks.push([
      at,
      (e.cidr === undefined) === (e.namespace === undefined)
        ? "expected exactly one of cidr and namespace"
        : undefined,
    ]);
    if (e.cidr !== undefined) {
      checks.push([
        `${at}.cidr`,
        CIDR.test(e.cidr)
          ? undefined
          : `expected a CIDR such as 10.0.0.0/16, got ${JSON.stringify(e.cidr)}`,
      ]);
    }
    if (e.namespace !== undefined) {
      checks.push([`${at}.namespace`, labelProblem(e.namespace)]);
    }
    checks.push([`${at}.ports`, e.ports.length === 0 ? "expected at least one port" : undefined]);
    e.ports.forEach((p, j) =>
      checks.push([
        `${at}.ports[${j}].port`,
        Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535
          ? undefined
          : `expected a port 1-65535, got ${p.port}`,
      ]),
    );
  });
  return checks;
}

function requireKey(data: Record<string, string> | undefined, key: string, app: string): string {
  const value = data?.[key];
  if (value === undefined || value === "") {
    // Publishing an empty credential would only fail later, in a pipeline.
    throw new Error(
      `the token Secret of ${deployerAccountName(app)} has no data["${key}"]: ` +
        "the token controller has not populated it",
    );
  }
  return value;
}

function decodeBase64(value: string): string {
  return Buffer.from(value, "base64").toString("utf8");
}
