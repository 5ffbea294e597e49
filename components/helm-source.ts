/**
 * Where a Helm chart comes from: its public repository by default, or a mirror, an OCI registry or
 * a local directory for clusters without access to the public chart repositories (air-gapped
 * installs, and the end-to-end tests' stand-in charts).
 */
import * as path from "path";
import type * as k8s from "@pulumi/kubernetes";

/** The `chart` and `repositoryOpts` of a Helm Release. */
export interface ChartSource {
  readonly chart: string;
  readonly repositoryOpts?: k8s.types.input.helm.v3.RepositoryOpts;
}

/**
 * `chart` from `repository`: an `https://` (or `http://`) chart repository URL, an `oci://`
 * registry path (the chart name is appended: `oci://registry.example.com/charts/<chart>`), or a
 * local directory (absolute, or relative to the Pulumi project) that holds the chart itself.
 */
export function chartSource(chart: string, repository: string): ChartSource {
  if (/^https?:\/\//.test(repository)) {
    return { chart, repositoryOpts: { repo: repository } };
  }
  if (repository.startsWith("oci://")) {
    return { chart: `${repository.replace(/\/+$/, "")}/${chart}` };
  }
  return { chart: path.resolve(repository) };
}

/** What is wrong with `repository` as a chart source, if anything. */
export function chartSourceProblem(repository: string): string | undefined {
  if (/^(https?|oci):\/\/[^\s/]+/.test(repository)) {
    return undefined;
  }
  if (repository.includes("://") || repository.trim() === "") {
    return `expected an https:// chart repository, an oci:// registry path or a local chart directory, got ${JSON.stringify(repository)}`;
  }
  return undefined;
}
