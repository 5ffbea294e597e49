/**
 * The kubeconfig CI jobs of a `direct` app deploy with. It holds no credential: GitLab cannot mask
 * a multi-line file variable, so the token lives in a separate, masked single-line variable and
 * the kubeconfig's user reads it at run time through an exec credential plugin.
 */
import { stringify } from "yaml";

/**
 * The ExecCredential version the plugin speaks. With `client.authentication.k8s.io/v1` the
 * kubeconfig's `exec.interactiveMode` is required (client-go `clientcmd/api/v1` ExecConfig).
 */
export const EXEC_CREDENTIAL_API_VERSION = "client.authentication.k8s.io/v1";

/** The CI/CD variable the kubeconfig's exec plugin reads the token from. */
export const DEFAULT_TOKEN_VARIABLE = "KUBE_TOKEN";

/** Arguments of {@link deployerKubeconfig}. */
export interface DeployerKubeconfigArgs {
  /** Name of the cluster entry (also part of the context name). */
  readonly clusterName: string;
  /** API server URL, `https://…`. */
  readonly server: string;
  /** Base64-encoded PEM CA bundle: a service-account-token Secret's `data["ca.crt"]` as it is. */
  readonly certificateAuthorityData: string;
  /** Namespace the context selects. */
  readonly namespace: string;
  /** Name of the user entry, e.g. `web-deployer`. */
  readonly userName: string;
  /** Environment variable holding the bearer token. Default {@link DEFAULT_TOKEN_VARIABLE}. */
  readonly tokenVariable?: string;
}

/**
 * The `sh -c` script that prints a v1 ExecCredential carrying `$<variable>`. It fails with a clear
 * message when the variable is empty (it is protected: jobs on unprotected refs don't get it)
 * rather than sending an empty token. Service account tokens are JWTs (`[A-Za-z0-9_.-]`), so the
 * value needs no JSON escaping; `printf '%s'` never interprets it.
 */
export function execCredentialScript(variable: string = DEFAULT_TOKEN_VARIABLE): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) {
    throw new Error(
      `tokenVariable: expected a shell variable name, got ${JSON.stringify(variable)}`,
    );
  }
  const credential = JSON.stringify({
    apiVersion: EXEC_CREDENTIAL_API_VERSION,
    kind: "ExecCredential",
    status: { token: "%s" },
  });
  return (
    `if [ -z "\${${variable}:-}" ]; then ` +
    `echo "${variable} is not set (a protected variable: only protected branches and tags get it)" >&2; ` +
    `exit 1; fi; ` +
    `printf '${credential}\\n' "$${variable}"`
  );
}

/** The deployer kubeconfig as YAML; one cluster, one user, one context (the current one). */
export function deployerKubeconfig(args: DeployerKubeconfigArgs): string {
  const context = `${args.userName}@${args.clusterName}`;
  const config = {
    apiVersion: "v1",
    kind: "Config",
    preferences: {},
    clusters: [
      {
        name: args.clusterName,
        cluster: {
          server: args.server,
          "certificate-authority-data": args.certificateAuthorityData,
        },
      },
    ],
    users: [
      {
        name: args.userName,
        user: {
          exec: {
            apiVersion: EXEC_CREDENTIAL_API_VERSION,
            command: "sh",
            args: ["-c", execCredentialScript(args.tokenVariable)],
            // The plugin never reads stdin; required for the v1 ExecCredential API.
            interactiveMode: "Never",
          },
        },
      },
    ],
    contexts: [
      {
        name: context,
        context: { cluster: args.clusterName, namespace: args.namespace, user: args.userName },
      },
    ],
    "current-context": context,
  };
  // lineWidth 0: no folding of the long script and CA lines, so the file reads as it parses.
  return stringify(config, { lineWidth: 0 });
}
