/**
 * Formats shared by the config schema and the components: one definition of what a Kubernetes
 * name, a GitLab path or a resource quantity looks like. Pure: no Pulumi, no I/O.
 */

/** RFC 1123 label: what Kubernetes requires of namespace, Service and label-value-like names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** RFC 1035 label: what Kubernetes requires of Service names (a letter first). */
export const DNS_1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A lowercase host name, as Ingress rules require. */
export const LOWERCASE_HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/** RFC 1123 subdomain: what Kubernetes requires of Secret, ConfigMap and most object names. */
export const DNS_SUBDOMAIN =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A host name (no scheme, no port, no path), e.g. `registry.gitlab.example.org`. */
export const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;

/**
 * A GitLab project or group full path, e.g. `acme/platform/deploy`: segments of letters, digits,
 * `_`, `-` and `.`, not starting with `-` or `.`, joined by `/`.
 */
export const GITLAB_PATH = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/;

/** A non-negative Kubernetes resource quantity (`250m`, `512Mi`, `1.5`, `2G`). */
export const QUANTITY =
  /^[+]?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

/** A Go duration as Flux and the runner accept it (`1m`, `10m0s`, `1h30m`). */
export const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

/** A calendar date `YYYY-MM-DD`. */
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A GitLab CI/CD variable key. */
export const CI_VARIABLE_KEY = /^[A-Za-z0-9_]{1,255}$/;

/** A container image digest. */
export const IMAGE_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A container image tag. */
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * An image reference: repository, then an optional tag, then an optional digest
 * (`ghcr.io/fluxcd/source-controller:v1.8.2@sha256:…`). A `:<digits>` after the first component
 * is a registry port only when a path follows (`registry.example.com:5000/web`); otherwise it is
 * a tag (`alpine:3`), as Docker reads it.
 */
export const IMAGE_REFERENCE =
  /^([a-z0-9]+(?:[._-][a-z0-9]+)*(?:(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)+)?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/;

/** The parts of an image reference; undefined when `reference` is not one. */
export function parseImageReference(
  reference: string,
): { repository: string; tag?: string; digest?: string } | undefined {
  // Plain groups (1 repository, 2 tag, 3 digest): the JSON Schema reuses the pattern.
  const match = IMAGE_REFERENCE.exec(reference);
  const repository = match?.[1];
  if (repository === undefined) {
    return undefined;
  }
  const tag = match?.[2];
  const digest = match?.[3];
  return {
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** Whether `image` names a digest (`…@sha256:<64 hex>`), so what runs cannot change under it. */
export function pinnedByDigest(image: string): boolean {
  return /@sha256:[a-f0-9]{64}$/.test(image);
}

/** An image repository without tag or digest, e.g. `registry.gitlab.com/acme/web`. */
export const IMAGE_REPOSITORY =
  /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

/** An exact chart version (a pin, not a range), e.g. `2.6.2` or `1.0.0-rc.1`. */
export const CHART_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/**
 * An agentk image tag, e.g. `v18.6.0`, optionally pinned by digest: `v18.6.0@sha256:<64 hex>`
 * (the chart renders `<repository>:<tag>`, so the image is pulled by its digest; the tag stays for
 * readers and for the KAS version window).
 */
export const AGENTK_IMAGE_TAG = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(@sha256:[a-f0-9]{64})?$/;

/** The version part of an agentk image tag: `v18.6.0` for `v18.6.0@sha256:…`. */
export function agentkVersionTag(tag: string): string {
  return tag.replace(/@sha256:[a-f0-9]{64}$/, "");
}

/** The URL schemes of a KAS address (websocket or gRPC, with or without TLS). */
export const KAS_SCHEMES: readonly string[] = ["wss:", "ws:", "grpcs:", "grpc:"];

/** True when `value` is a URL with one of `schemes` (`"https:"`, with the colon) and a host. */
export function isUrlWithScheme(value: string, schemes: readonly string[]): boolean {
  try {
    const url = new URL(value);
    return schemes.includes(url.protocol) && url.hostname !== "";
  } catch {
    return false;
  }
}

/** True when `date` (`YYYY-MM-DD`) names a real calendar day. */
export function isCalendarDate(date: string): boolean {
  if (!ISO_DATE.test(date)) {
    return false;
  }
  const parsed = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(date);
}

const QUANTITY_SUFFIXES: Record<string, number> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a Kubernetes quantity in base units (cores, bytes), for comparisons. */
export function parseQuantity(quantity: string): number {
  if (!QUANTITY.test(quantity)) {
    throw new Error(`not a Kubernetes quantity: ${JSON.stringify(quantity)}`);
  }
  const match = /^([+-]?[0-9.]+)(.*)$/.exec(quantity);
  const number = Number(match?.[1]);
  const suffix = match?.[2] ?? "";
  if (/^[eE]/.test(suffix)) {
    return number * 10 ** Number(suffix.slice(1));
  }
  return number * (QUANTITY_SUFFIXES[suffix] ?? NaN);
}
