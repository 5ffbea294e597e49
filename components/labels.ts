/**
 * Labels every object of the platform carries (Kubernetes' recommended `app.kubernetes.io/*`
 * set), built in one place so selectors and policies can rely on them.
 */

/** `app.kubernetes.io/part-of` of everything this program creates. */
export const PART_OF = "gitlab-cd-platform";

/** The recommended labels for an object of `component`, optionally for one `instance` (an app, a stack). */
export function standardLabels(component: string, instance?: string): Record<string, string> {
  return {
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/component": component,
    ...(instance === undefined ? {} : { "app.kubernetes.io/instance": instance }),
  };
}

/** Pod Security Admission levels. */
export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

/**
 * Labels that enforce `level`, and audit and warn at `restricted` whatever is enforced, so a
 * namespace that must allow more still shows what falls short of the restricted profile.
 */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
  };
}
