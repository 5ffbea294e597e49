import { RecordedResource } from "./mocks";

/**
 * Validates the Kubernetes objects a program registered against their OpenAPI schemas
 * (kubernetes-models; @kubernetes-models/flux-cd for Flux kinds). kubernetes-models is ESM-only;
 * jest loads it through test/harness/esm-resolver.js, so the models are required lazily by path.
 */

type ModelClass = new (data: unknown) => { validate(): void };

/** Pulumi resource types that are not Kubernetes objects of their own (validated elsewhere). */
const NOT_OBJECTS = new Set(["kubernetes:helm.sh/v3:Release", "pulumi:providers:kubernetes"]);

const FLUX_GROUPS = /\.toolkit\.fluxcd\.io$/;

/** `kubernetes:rbac.authorization.k8s.io/v1:Role` → `{ apiVersion, kind }`; undefined for non-objects. */
export function kubernetesKind(type: string): { apiVersion: string; kind: string } | undefined {
  const match = /^kubernetes:([^:]+):([A-Za-z]+)$/.exec(type);
  if (match === null || NOT_OBJECTS.has(type)) {
    return undefined;
  }
  const [, groupVersion = "", kind = ""] = match;
  return { apiVersion: groupVersion.replace(/^core\//, ""), kind };
}

function modelFor(apiVersion: string, kind: string): ModelClass {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const modulePath =
    group !== undefined && FLUX_GROUPS.test(group)
      ? `@kubernetes-models/flux-cd/${group}/${version}/${kind}`
      : `kubernetes-models/${group === "" ? "" : `${group}/`}${version}/${kind}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(modulePath) as Record<string, ModelClass>;
  const model = mod[kind];
  if (model === undefined) {
    throw new Error(`no schema for ${apiVersion} ${kind} (${modulePath})`);
  }
  return model;
}

/** The object a Kubernetes resource's inputs describe (Pulumi-only fields removed). */
export function objectOf(resource: RecordedResource): Record<string, unknown> {
  const kind = kubernetesKind(resource.type);
  if (kind === undefined) {
    throw new Error(`${resource.type} is not a Kubernetes object`);
  }
  return { ...resource.inputs, apiVersion: kind.apiVersion, kind: kind.kind };
}

/** Schema problems of every Kubernetes object in `resources`, one line each; empty when all valid. */
export function schemaProblems(resources: readonly RecordedResource[]): string[] {
  const problems: string[] = [];
  for (const resource of resources) {
    const kind = kubernetesKind(resource.type);
    if (kind === undefined) {
      continue;
    }
    try {
      new (modelFor(kind.apiVersion, kind.kind))(objectOf(resource)).validate();
    } catch (error) {
      problems.push(`${resource.type} "${resource.name}": ${(error as Error).message}`);
    }
  }
  return problems;
}

/** Throws unless `object` (a manifest with apiVersion and kind) is valid against its schema. */
export function validateManifest(object: Record<string, unknown>): void {
  const { apiVersion, kind } = object as { apiVersion: string; kind: string };
  new (modelFor(apiVersion, kind))(object).validate();
}
