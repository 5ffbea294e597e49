import {
  PolicyConfigSchema,
  ResourceValidation,
  ResourceValidationPolicy,
  StackValidation,
  StackValidationPolicy,
} from "@pulumi/policy";
import { ENVIRONMENTS } from "../stacks/model";
import { credentialVariablesMaskedProtected, noPlaintextCredentials } from "./credentials";
import { POLICIES, POLICY_NAMES, PolicyName } from "./levels";
import { appNamespacesDefaultDeny, namespacesPodSecurity } from "./namespaces";
import {
  fluxProductionDigest,
  fluxProductionVerified,
  fluxSourcesPinned,
  helmChartsPinned,
} from "./pinning";
import { noClusterAdminBinding, noWildcardRbac } from "./rbac";
import { runnerNotPrivileged, runnerRbacNamespaced } from "./runner";
import { containersRequestsLimits, containersRestricted, noExternalServices } from "./workloads";

/**
 * The pack's policies: each name from levels.ts with its check, description and default level.
 * Kept apart from index.ts (which serves them to the engine) so tests can import them.
 */

/** Each policy's check: per resource (its inputs) or over the whole stack. */
export const CHECKS: Readonly<
  Record<PolicyName, { validateResource: ResourceValidation } | { validateStack: StackValidation }>
> = {
  "runner-not-privileged": { validateResource: runnerNotPrivileged },
  "runner-rbac-namespaced": { validateStack: runnerRbacNamespaced },
  "credential-variables-masked-protected": { validateResource: credentialVariablesMaskedProtected },
  "no-plaintext-credentials": { validateResource: noPlaintextCredentials },
  "containers-restricted": { validateResource: containersRestricted },
  "containers-requests-limits": { validateResource: containersRequestsLimits },
  "no-cluster-admin-binding": { validateResource: noClusterAdminBinding },
  "no-wildcard-rbac": { validateResource: noWildcardRbac },
  "no-external-services": { validateResource: noExternalServices },
  "helm-charts-pinned": { validateResource: helmChartsPinned },
  "flux-sources-pinned": { validateResource: fluxSourcesPinned },
  "flux-production-digest": { validateResource: fluxProductionDigest },
  "flux-production-verified": { validateResource: fluxProductionVerified },
  "namespaces-pod-security": { validateResource: namespacesPodSecurity },
  "app-namespaces-default-deny": { validateStack: appNamespacesDefaultDeny },
};

/**
 * The config every policy accepts: the stack's environment (the `npm run preview|up` wrapper
 * writes it, with each policy's level, into the file it passes as `--policy-pack-config`).
 */
export const CONFIG_SCHEMA: PolicyConfigSchema = {
  properties: {
    environment: {
      type: "string",
      enum: [...ENVIRONMENTS],
      description:
        "The stack's platform:environment. Without it: the stack's name if it is dev, staging or production, else production.",
    },
  },
};

/** The policies in the order levels.ts lists them. */
export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = POLICY_NAMES.map(
  (name) => ({
    name,
    description: POLICIES[name].description,
    enforcementLevel: POLICIES[name].defaultLevel,
    configSchema: CONFIG_SCHEMA,
    ...CHECKS[name],
  }),
);
