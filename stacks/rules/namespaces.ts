import { parseQuantity } from "../../components/formats";
import { Rule, requestsWithinLimits } from "./rule";

/** Rules about the namespaces a stack creates: `namespace.*`, `agent.namespace`, `flux.namespace`, `apps[].namespace`. */

/** Namespaces this stack creates are distinct, or two objects claim one name. */
export const namespacesDistinct: Rule = {
  name: "namespaces.namespacesDistinct",
  paths: ["runner.jobs.namespace", "agent.namespace", "flux.namespace", "apps[].namespace"],
  check: (config) => {
    const problems: string[] = [];
    const claimed = new Map<string, string>();
    const claim = (name: string, path: string) => {
      const other = claimed.get(name);
      if (other !== undefined) {
        problems.push(
          `${path}: expected a namespace no other part of the stack uses (${other} is "${name}" too), got "${name}"`,
        );
      } else {
        claimed.set(name, path);
      }
    };
    if (config.features.runner) {
      claim(config.namespace.name, "namespace.name");
      if (config.runner.jobNamespace !== undefined) {
        claim(config.runner.jobNamespace, "runner.jobs.namespace");
      }
    }
    if (config.features.agent) {
      claim(config.agent.namespace, "agent.namespace");
    }
    if (config.features.flux) {
      claim(config.flux.namespace, "flux.namespace");
    }
    if (config.features.apps) {
      // Two apps in one namespace are reported by apps.uniqueNamespace, with the app index.
      const appNamespaces = new Set<string>();
      config.apps.forEach((a, i) => {
        if (!appNamespaces.has(a.namespace)) {
          appNamespaces.add(a.namespace);
          claim(a.namespace, `apps[${i}].namespace`);
        }
      });
    }
    return problems;
  },
};

/** The LimitRange's default requests are within its default limits. */
export const limitRangeRequestsWithinLimits: Rule = {
  name: "namespaces.limitRangeRequestsWithinLimits",
  paths: ["namespace.limitRange.defaultRequestCpu", "namespace.limitRange.defaultRequestMemory"],
  check: (config) =>
    requestsWithinLimits(
      "namespace.limitRange",
      {
        cpuRequest: config.namespace.limitRange.defaultRequestCpu,
        cpuLimit: config.namespace.limitRange.defaultLimitCpu,
        memoryRequest: config.namespace.limitRange.defaultRequestMemory,
        memoryLimit: config.namespace.limitRange.defaultLimitMemory,
      },
      {
        cpuRequest: "defaultRequestCpu",
        cpuLimit: "defaultLimitCpu",
        memoryRequest: "defaultRequestMemory",
        memoryLimit: "defaultLimitMemory",
      },
    ),
};

/** App namespaces' LimitRange: default requests within default limits, defaults within the maximum. */
export const appLimitRangeConsistent: Rule = {
  name: "namespaces.appLimitRangeConsistent",
  paths: ["appNamespaces.limitRange.*"],
  check: (config) => {
    const l = config.appNamespaces.limitRange;
    const path = "appNamespaces.limitRange";
    return [
      ...requestsWithinLimits(
        path,
        {
          cpuRequest: l.defaultRequestCpu,
          cpuLimit: l.defaultLimitCpu,
          memoryRequest: l.defaultRequestMemory,
          memoryLimit: l.defaultLimitMemory,
        },
        {
          cpuRequest: "defaultRequestCpu",
          cpuLimit: "defaultLimitCpu",
          memoryRequest: "defaultRequestMemory",
          memoryLimit: "defaultLimitMemory",
        },
      ),
      ...(parseQuantity(l.defaultLimitCpu) > parseQuantity(l.maxCpu)
        ? [
            `${path}.defaultLimitCpu: expected at most maxCpu "${l.maxCpu}", got "${l.defaultLimitCpu}"`,
          ]
        : []),
      ...(parseQuantity(l.defaultLimitMemory) > parseQuantity(l.maxMemory)
        ? [
            `${path}.defaultLimitMemory: expected at most maxMemory "${l.maxMemory}", got "${l.defaultLimitMemory}"`,
          ]
        : []),
    ];
  },
};

/** The rules of this area. */
export const namespaceRules: readonly Rule[] = [
  namespacesDistinct,
  limitRangeRequestsWithinLimits,
  appLimitRangeConsistent,
];
