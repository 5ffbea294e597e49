/**
 * Promotion by digest: a tag that passed an earlier environment (the commit SHA that passed
 * staging) is resolved to the digest it names in the registry, with @pulumi/docker's registry
 * lookup, before the program registers anything that uses it. A merge request that changes the
 * promoted tag then shows in its preview the exact digest that will run, and what runs no longer
 * moves when someone re-tags.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

/** One tag to resolve. */
export interface PromotionRequest {
  /** The app, the key of the result. */
  readonly app: string;
  /** Where an error points in the stack config, e.g. `apps[2].image.promote`. */
  readonly at: string;
  /** The repository without tag, e.g. `registry.gitlab.example.com/acme/web` (or its `/manifests`). */
  readonly repository: string;
  /** The tag to promote. */
  readonly tag: string;
}

/** Registry credentials that may read every promoted repository. */
export interface RegistryCredentials {
  /** Registry host with port, e.g. `registry.gitlab.example.com`. */
  readonly registryHost: string;
  /** A deploy token's username, or a user's. */
  readonly username: string;
  /** Its token; kept secret. */
  readonly token: pulumi.Input<string>;
}

/** Tags the registry did not resolve, each with its config path: a user's mistake, printed alone. */
export class PromotionError extends pulumi.RunError {
  constructor(readonly problems: readonly string[]) {
    super(
      `Promotion failed (${problems.length} ${problems.length === 1 ? "tag" : "tags"}):\n${problems
        .map((p) => `  - ${p}`)
        .join("\n")}`,
    );
    this.name = "PromotionError";
  }
}

/** A digest as the registry reports it. */
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The digest of each request's tag, by app. Registers one docker provider (configuration only,
 * nothing in the world) when there is anything to resolve; throws a {@link PromotionError}
 * naming every image, tag and the registry that did not resolve, before the caller registers
 * anything else.
 */
export async function resolvePromotions(
  requests: readonly PromotionRequest[],
  credentials: RegistryCredentials,
): Promise<Map<string, string>> {
  if (requests.length === 0) {
    return new Map();
  }
  const provider = new docker.Provider("promotion-registry", {
    registryAuth: [
      {
        address: credentials.registryHost,
        username: credentials.username,
        password: pulumi.secret(credentials.token),
      },
    ],
  });
  const results = await Promise.allSettled(
    requests.map(async (r) => {
      const found = await docker.getRegistryImage(
        { name: `${r.repository}:${r.tag}` },
        { provider },
      );
      if (!DIGEST.test(found.sha256Digest)) {
        throw new Error(`the registry answered ${JSON.stringify(found.sha256Digest)}`);
      }
      return found.sha256Digest;
    }),
  );
  const problems: string[] = [];
  const digests = new Map<string, string>();
  results.forEach((result, i) => {
    const r = requests[i] as PromotionRequest;
    if (result.status === "fulfilled") {
      digests.set(r.app, result.value);
      return;
    }
    const err: unknown = result.reason;
    const detail = err instanceof Error && err.message !== "" ? err.message : String(err);
    problems.push(
      `${r.at}: cannot promote ${r.repository}:${r.tag}: ${credentials.registryHost} did not ` +
        `resolve tag "${r.tag}" of ${r.repository} to a digest (${detail}); check that the tag ` +
        `exists and that promotion.username may read the repository`,
    );
  });
  if (problems.length > 0) {
    throw new PromotionError(problems);
  }
  return digests;
}
