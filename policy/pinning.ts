import { ResourceValidation } from "@pulumi/policy";
import { CHART_VERSION } from "../components/formats";
import { TYPES, isFluxSource, isObject, resourceEnvironment } from "./kinds";

/**
 * What gets installed is pinned: Helm charts at an exact version (the config schema's
 * CHART_VERSION format: `1.2.3`, `1.0.0-rc.1`, never a range or nothing, which means "newest"),
 * Flux sources at a tag, semver range or digest (commit) rather than a default branch or
 * `latest`, and, in production, Flux sources at a digest (commit): whoever can push to the
 * registry can move a tag.
 */

/** Whether a Helm chart reference is a local directory (pinned by this repository's history). */
function isLocalChart(chart: unknown): boolean {
  return typeof chart === "string" && /^(\.{1,2}\/|\/)/.test(chart);
}

/** Every Helm release (helm.sh/v3 Release, helm.sh/v4 Chart) names an exact chart version. */
export const helmChartsPinned: ResourceValidation = (args, report) => {
  if (args.type !== TYPES.helmRelease && args.type !== TYPES.helmChart) {
    return;
  }
  const chart = args.props["chart"];
  if (isLocalChart(chart)) {
    return;
  }
  const version = args.props["version"];
  if (typeof version !== "string" || !CHART_VERSION.test(version)) {
    report(
      `version: expected an exact chart version such as "1.2.3" for chart ${JSON.stringify(chart)}, got ${version === undefined || version === "" ? "nothing" : JSON.stringify(version)}`,
    );
  }
};

/** The `spec.ref` of a Flux source. */
function refOf(props: Record<string, unknown>): Record<string, unknown> {
  const spec = isObject(props["spec"]) ? props["spec"] : {};
  return isObject(spec["ref"]) ? spec["ref"] : {};
}

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

/** Every Flux OCIRepository or GitRepository follows a tag, semver range or digest (commit). */
export const fluxSourcesPinned: ResourceValidation = (args, report) => {
  const ref = refOf(args.props);
  if (isFluxSource(args.type, "OCIRepository")) {
    if (!["tag", "semver", "digest"].some((k) => nonEmpty(ref[k]))) {
      report(
        'spec.ref: expected a tag, semver or digest, got nothing (Flux would follow "latest")',
      );
    }
  } else if (isFluxSource(args.type, "GitRepository")) {
    if (!["tag", "semver", "commit"].some((k) => nonEmpty(ref[k]))) {
      const branch = ref["branch"] ?? ref["name"];
      report(
        `spec.ref: expected a tag, semver or commit, got ${nonEmpty(branch) ? `the moving ref ${JSON.stringify(branch)}` : "nothing (Flux would follow the default branch)"}`,
      );
    }
  }
};

/** How messages describe what a source follows instead of a digest. */
function following(ref: Record<string, unknown>): string {
  for (const key of ["tag", "semver", "branch", "name"]) {
    if (nonEmpty(ref[key])) {
      return `${key} ${JSON.stringify(ref[key])}`;
    }
  }
  return "nothing";
}

/** In production, OCIRepositories verify their artifacts' cosign signatures. */
export const fluxProductionVerified: ResourceValidation = (args, report) => {
  if (!isFluxSource(args.type, "OCIRepository") || resourceEnvironment(args) !== "production") {
    return;
  }
  const spec = (args.props["spec"] ?? {}) as Record<string, unknown>;
  const verify = (spec["verify"] ?? {}) as Record<string, unknown>;
  const secretRef = (verify["secretRef"] ?? {}) as Record<string, unknown>;
  const identities = verify["matchOIDCIdentity"];
  const how = nonEmpty(secretRef["name"]) || (Array.isArray(identities) && identities.length > 0);
  if (verify["provider"] !== "cosign" || !how) {
    report(
      `spec.verify: expected provider cosign with a secretRef or matchOIDCIdentity in production (whoever can push to the registry could otherwise ship what Flux applies), got ${JSON.stringify(spec["verify"] ?? null)}`,
    );
  }
};

/** In production, OCIRepositories follow a digest and GitRepositories a commit. */
export const fluxProductionDigest: ResourceValidation = (args, report) => {
  const oci = isFluxSource(args.type, "OCIRepository");
  if (
    (!oci && !isFluxSource(args.type, "GitRepository")) ||
    resourceEnvironment(args) !== "production"
  ) {
    return;
  }
  const ref = refOf(args.props);
  const field = oci ? "digest" : "commit";
  if (!nonEmpty(ref[field])) {
    report(
      `spec.ref.${field}: expected a ${field} in production (whoever can push to the ${oci ? "registry" : "repository"} can move a ${oci ? "tag" : "branch or tag"}), got ${following(ref)}`,
    );
  }
};
