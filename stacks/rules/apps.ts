import { hostAllowedBy } from "../../components/app-admission";
import { DNS_LABEL, IMAGE_REPOSITORY, parseQuantity } from "../../components/formats";
import { ENVIRONMENT_DEFAULTS } from "../defaults";
import { problem } from "../errors";
import { AppSettings } from "../model";
import {
  ItemRule,
  Rule,
  RuleEntry,
  earlierWithSameKey,
  eachItem,
  requestsWithinLimits,
} from "./rule";

/** Rules about `apps[]`: one project and namespace each, deploy methods, images, sizes, hosts. */

/** The platform publishes one KUBE_NAMESPACE/KUBE_CONTEXT per project and environment scope. */
export const uniqueProject: ItemRule<AppSettings> = {
  name: "apps.uniqueProject",
  paths: ["apps[].project"],
  check: (_a, i, apps, _config, raw) => {
    const other = earlierWithSameKey(apps, i, (b) => b.project.toLowerCase());
    return other === undefined
      ? []
      : [
          problem(
            ["apps", i, "project"],
            `expected a project no other app uses (apps[${other}] has it too)`,
            raw,
          ),
        ];
  },
};

/** Each app has a namespace of its own. */
export const uniqueNamespace: ItemRule<AppSettings> = {
  name: "apps.uniqueNamespace",
  paths: ["apps[].namespace"],
  check: (a, i, apps) => {
    const other = earlierWithSameKey(apps, i, (b) => b.namespace);
    return other === undefined
      ? []
      : [
          `apps[${i}].namespace: expected a namespace no other app uses (apps[${other}] has it too), got "${a.namespace}"`,
        ];
  },
};

/** `method: agent` needs the agent. */
export const agentMethodNeedsAgent: ItemRule<AppSettings> = {
  name: "apps.agentMethodNeedsAgent",
  paths: ["apps[].method"],
  check: (a, i, apps, config) =>
    a.method === "agent" && !config.features.agent
      ? [
          problem(
            ["apps", i, "method"],
            'expected "direct" or "flux" when features.agent is false',
            {
              apps,
            },
          ),
        ]
      : [],
};

/** `method: flux` needs Flux. */
export const fluxMethodNeedsFlux: ItemRule<AppSettings> = {
  name: "apps.fluxMethodNeedsFlux",
  paths: ["apps[].method"],
  check: (a, i, apps, config) =>
    a.method === "flux" && !config.features.flux
      ? [
          problem(
            ["apps", i, "method"],
            'expected "agent" or "direct" when features.flux is false',
            {
              apps,
            },
          ),
        ]
      : [],
};

/** `method: direct` writes the API server into the app's KUBECONFIG. */
export const directMethodNeedsApiServer: ItemRule<AppSettings> = {
  name: "apps.directMethodNeedsApiServer",
  paths: ["kubeApiServer"],
  check: (a, i, _apps, config) =>
    a.method === "direct" && config.kubeApiServer === undefined
      ? [
          `kubeApiServer: expected the API server URL CI jobs reach when apps[${i}].method is "direct", got nothing`,
        ]
      : [],
};

/** App names are unique: they name the objects of the app. */
export const uniqueName: ItemRule<AppSettings> = {
  name: "apps.uniqueName",
  paths: ["apps[].name"],
  check: (_a, i, apps, _config, raw) => {
    const first = earlierWithSameKey(apps, i, (b) => b.name);
    return first === undefined
      ? []
      : [
          problem(
            ["apps", i, "name"],
            `expected a unique app name (apps[${first}] has it too)`,
            raw,
          ),
        ];
  },
};

/** The initial image is named by exactly one of tag and digest. */
export const tagOrDigest: ItemRule<AppSettings> = {
  name: "apps.tagOrDigest",
  paths: ["apps[].image"],
  check: (a, i) => {
    const given = [a.image.tag, a.image.digest, a.promote].filter((v) => v !== undefined).length;
    return given === 1
      ? []
      : [
          `apps[${i}].image: expected exactly one of tag, digest or promote, got ${given === 0 ? "none" : given === 2 ? "two" : "all three"}`,
        ];
  },
};

/** Production Flux apps follow a promoted digest, never the moving environment tag. */
export const productionFluxPromoted: ItemRule<AppSettings> = {
  name: "apps.productionFluxPromoted",
  paths: ["apps[].image.promote"],
  check: (a, i, _apps, config) =>
    config.environment === "production" && a.method === "flux" && a.promote === undefined
      ? [
          `apps[${i}].image.promote: expected the tag to promote in production (a flux app follows its manifests artifact by digest there, so whoever can push to the registry cannot move what runs), got nothing`,
        ]
      : [],
};

/** A promoted tag is resolved, before anything is registered, with the stack's `promotion` credentials. */
export const promotionHasCredentials: ItemRule<AppSettings> = {
  name: "apps.promotionHasCredentials",
  paths: ["apps[].image.promote"],
  check: (a, i, _apps, config) =>
    a.promote !== undefined && config.promotion === undefined
      ? [
          `apps[${i}].image.promote: expected promotion.username and promotion.token (registry credentials that may read ${a.image.repository}) to resolve the tag, got none`,
        ]
      : [],
};

export const minReplicas: ItemRule<AppSettings> = {
  name: "apps.minReplicas",
  paths: ["apps[].replicas"],
  check: (a, i, _apps, config, raw) => {
    const min = ENVIRONMENT_DEFAULTS[config.environment].rules.minAppReplicas;
    return a.replicas < min
      ? [problem(["apps", i, "replicas"], `expected at least ${min} in ${config.environment}`, raw)]
      : [];
  },
};

/** An autoscaler's maximum is at least its minimum (`replicas`), and only CI-deployed apps have one. */
export const autoscalingBounds: ItemRule<AppSettings> = {
  name: "apps.autoscalingBounds",
  paths: ["apps[].autoscaling", "apps[].autoscaling.maxReplicas"],
  check: (a, i) => {
    if (a.autoscaling === undefined) {
      return [];
    }
    if (a.method === "flux") {
      return [
        `apps[${i}].autoscaling: expected no autoscaling for a flux app (its manifests own its objects: put the HorizontalPodAutoscaler there), got one`,
      ];
    }
    return a.autoscaling.maxReplicas < a.replicas
      ? [
          `apps[${i}].autoscaling.maxReplicas: expected at least replicas (${a.replicas}), got ${a.autoscaling.maxReplicas}`,
        ]
      : [];
  },
};

/** The app container's requests are within its limits. */
export const resourcesWithinLimits: ItemRule<AppSettings> = {
  name: "apps.resourcesWithinLimits",
  paths: ["apps[].resources.cpuRequest", "apps[].resources.memoryRequest"],
  check: (a, i) => requestsWithinLimits(`apps[${i}].resources`, a.resources),
};

/** Two Ingresses for one host would fight over it. */
export const uniqueIngressHost: ItemRule<AppSettings> = {
  name: "apps.uniqueIngressHost",
  paths: ["apps[].ingress.host"],
  check: (a, i, apps, _config, raw) => {
    if (a.ingress === undefined) {
      return [];
    }
    // Apps without an Ingress get "", which no host is.
    const other = earlierWithSameKey(apps, i, (b) => b.ingress?.host.toLowerCase() ?? "");
    return other === undefined
      ? []
      : [
          problem(
            ["apps", i, "ingress", "host"],
            `expected a host no other app uses (apps[${other}] has it too)`,
            raw,
          ),
        ];
  },
};

/** The hosts an app's namespace may route: its `ingress.host`, then its `allowedHosts`. */
function routableHosts(a: AppSettings): string[] {
  return [...(a.ingress === undefined ? [] : [a.ingress.host]), ...a.allowedHosts];
}

/**
 * No app may route a host another app's namespace may route: the admission policy of each
 * namespace admits its own hosts, so a shared one (or one a wildcard covers) could be hijacked.
 */
export const allowedHostsNotShared: ItemRule<AppSettings> = {
  name: "apps.allowedHostsNotShared",
  paths: ["apps[].allowedHosts[]"],
  check: (a, i, apps, _config, raw) =>
    a.allowedHosts.flatMap((pattern, j) => {
      const other = apps.findIndex(
        (b, k) =>
          k !== i &&
          routableHosts(b).some((h) => hostAllowedBy(pattern, h) || hostAllowedBy(h, pattern)),
      );
      return other === -1
        ? []
        : [
            problem(
              ["apps", i, "allowedHosts", j],
              `expected a host no other app may route (apps[${other}] may route it too, so either could take the other's traffic)`,
              raw,
            ),
          ];
    }),
};

/** A repository derived from the registry host and project path is a valid image reference. */
export const derivedRepositoryValid: ItemRule<AppSettings> = {
  name: "apps.derivedRepositoryValid",
  paths: ["apps[].image.repository"],
  check: (a, i, _apps, _config, raw) =>
    raw.apps?.[i]?.image?.repository === undefined && !IMAGE_REPOSITORY.test(a.image.repository)
      ? [
          `apps[${i}].image.repository: expected an image repository, got "${a.image.repository}" (derived from gitlab.registryHost and the project path; set it explicitly)`,
        ]
      : [],
};

/** The environment URL `https://<host>` fits GitLab's limit. */
export const ingressHostFitsEnvironmentUrl: ItemRule<AppSettings> = {
  name: "apps.ingressHostFitsEnvironmentUrl",
  paths: ["apps[].ingress.host"],
  check: (a, i, _apps, config, raw) =>
    config.features.environments &&
    a.ingress !== undefined &&
    `https://${a.ingress.host}`.length > 255
      ? [
          problem(
            ["apps", i, "ingress", "host"],
            "expected at most 247 characters (GitLab keeps environment URLs to 255)",
            raw,
          ),
        ]
      : [],
};

/** A namespace derived from the app and stack names is a DNS label (explicit ones are checked by the schema). */
export const derivedNamespaceValid: ItemRule<AppSettings> = {
  name: "apps.derivedNamespaceValid",
  paths: ["apps[].namespace"],
  check: (a, i) =>
    !DNS_LABEL.test(a.namespace)
      ? [
          `apps[${i}].namespace: expected a DNS-1123 label (lowercase letters, digits and '-', at most 63), got "${a.namespace}" (derived from the app and stack names; set it explicitly)`,
        ]
      : [],
};

/** Apps stay out of the managed namespace (runner and job pods). */
export const notManagedNamespace: ItemRule<AppSettings> = {
  name: "apps.notManagedNamespace",
  paths: ["apps[].namespace"],
  check: (a, i, apps, config) =>
    a.namespace === config.namespace.name
      ? [
          problem(
            ["apps", i, "namespace"],
            `expected a namespace other than the managed namespace "${config.namespace.name}"`,
            { apps },
          ),
        ]
      : [],
};

/**
 * The app fits its namespace's ResourceQuota during a rollout (one surge pod: `maxSurge: 1`),
 * or the rollout would stall on a quota the platform itself set.
 */
export const fitsQuota: ItemRule<AppSettings> = {
  name: "apps.fitsQuota",
  paths: ["apps[].quota.*"],
  check: (a, i) => {
    // Requests above limits are reported on their own (resourcesWithinLimits).
    if (requestsWithinLimits("", a.resources).length > 0) {
      return [];
    }
    // With an autoscaler, its maximum: a quota below it would cap scaling where nobody looks.
    const most = a.autoscaling?.maxReplicas ?? a.replicas;
    const pods = most + 1;
    const replicas = `${most} ${a.autoscaling === undefined ? "replica" : "autoscaled replica"}${most === 1 ? "" : "s"} and one surge pod`;
    const over = (
      per: string,
      hard: string | number,
      field: string,
      what: string,
    ): string | undefined =>
      parseQuantity(String(per)) * pods > parseQuantity(String(hard))
        ? `apps[${i}].quota.${field}: expected at least ${pods} × ${what} "${per}" (${replicas}), got "${hard}"`
        : undefined;
    return [
      pods > a.quota.pods
        ? `apps[${i}].quota.pods: expected at least ${pods} (${replicas}), got ${a.quota.pods}`
        : undefined,
      over(a.resources.cpuRequest, a.quota.requestsCpu, "requestsCpu", "cpuRequest"),
      over(a.resources.memoryRequest, a.quota.requestsMemory, "requestsMemory", "memoryRequest"),
      over(a.resources.cpuLimit, a.quota.limitsCpu, "limitsCpu", "cpuLimit"),
      over(a.resources.memoryLimit, a.quota.limitsMemory, "limitsMemory", "memoryLimit"),
    ].filter((p): p is string => p !== undefined);
  },
};

/** The app's container is within its namespace's LimitRange maximum, or the API refuses its pods. */
export const withinLimitRangeMax: ItemRule<AppSettings> = {
  name: "apps.withinLimitRangeMax",
  paths: ["apps[].resources.cpuLimit", "apps[].resources.memoryLimit"],
  check: (a, i, _apps, config) => {
    const { maxCpu, maxMemory } = config.appNamespaces.limitRange;
    return [
      parseQuantity(a.resources.cpuLimit) > parseQuantity(maxCpu)
        ? `apps[${i}].resources.cpuLimit: expected at most appNamespaces.limitRange.maxCpu "${maxCpu}", got "${a.resources.cpuLimit}"`
        : undefined,
      parseQuantity(a.resources.memoryLimit) > parseQuantity(maxMemory)
        ? `apps[${i}].resources.memoryLimit: expected at most appNamespaces.limitRange.maxMemory "${maxMemory}", got "${a.resources.memoryLimit}"`
        : undefined,
    ].filter((p): p is string => p !== undefined);
  },
};

/** Each egress entry names one destination: an IP block or a namespace. */
export const egressTarget: ItemRule<AppSettings> = {
  name: "apps.egressTarget",
  paths: ["apps[].egress[]"],
  check: (a, i) =>
    a.egress.flatMap((e, j) =>
      (e.cidr === undefined) === (e.namespace === undefined)
        ? [
            `apps[${i}].egress[${j}]: expected exactly one of cidr and namespace, got ${e.cidr === undefined ? "neither" : "both"}`,
          ]
        : [],
    ),
};

/** Flux verifies artifacts one way: keyless or a public key, not both and not neither. */
export const fluxVerifyOneWay: Rule = {
  name: "apps.fluxVerifyOneWay",
  paths: ["flux.verify"],
  check: (_config, raw) => {
    const verify = raw.flux?.verify;
    if (verify === undefined) {
      return [];
    }
    const given = [verify.keyless, verify.publicKey].filter((v) => v !== undefined).length;
    return given === 1
      ? []
      : [
          `flux.verify: expected exactly one of keyless and publicKey, got ${given === 0 ? "neither" : "both"}`,
        ];
  },
};

/** In production Flux applies only signed artifacts. */
export const productionFluxVerified: Rule = {
  name: "apps.productionFluxVerified",
  paths: ["flux.verify"],
  check: (config) => {
    const flux = config.apps.filter((a) => a.method === "flux").map((a) => a.name);
    return config.environment === "production" &&
      config.features.flux &&
      flux.length > 0 &&
      config.flux.verify === undefined
      ? [
          `flux.verify: expected how Flux verifies the signed artifacts of ${flux.join(", ")} in production (keyless or publicKey; whoever can push to the registry could otherwise ship what Flux applies), got nothing`,
        ]
      : [];
  },
};

/** The rules of this area: two passes over the apps, each reporting an app's problems together. */
export const appRules: readonly RuleEntry[] = [
  eachItem("apps", (config) => config.apps, [
    uniqueProject,
    uniqueNamespace,
    agentMethodNeedsAgent,
    fluxMethodNeedsFlux,
    directMethodNeedsApiServer,
  ]),
  eachItem("apps", (config) => config.apps, [
    uniqueName,
    tagOrDigest,
    productionFluxPromoted,
    promotionHasCredentials,
    minReplicas,
    autoscalingBounds,
    resourcesWithinLimits,
    uniqueIngressHost,
    allowedHostsNotShared,
    derivedRepositoryValid,
    ingressHostFitsEnvironmentUrl,
    derivedNamespaceValid,
    notManagedNamespace,
    fitsQuota,
    withinLimitRangeMax,
    egressTarget,
  ]),
  fluxVerifyOneWay,
  productionFluxVerified,
];
