/**
 * The `.dockerconfigjson` of a `kubernetes.io/dockerconfigjson` Secret: what the kubelet (through
 * a Pod's `imagePullSecrets`) and Flux's source-controller (through `secretRef`) read to log in to
 * a registry. Pure: no Pulumi, no I/O, so tests build and compare it directly.
 */

/** The credentials of one registry inside a docker config. */
export interface DockerAuth {
  /** The registry username. */
  readonly username: string;
  /** The registry password (a token). */
  readonly password: string;
  /** `base64("username:password")`, the form the kubelet and Docker read first. */
  readonly auth: string;
}

/** A docker config file (`~/.docker/config.json` layout) with credentials per registry host. */
export interface DockerConfig {
  /** Credentials keyed by registry host (`registry.example.com` or `registry.example.com:5050`). */
  readonly auths: Readonly<Record<string, DockerAuth>>;
}

/**
 * The docker config that logs in to `registryHost` as `username` with `password`. Both the plain
 * `username`/`password` pair and the combined `auth` are written: Docker and the kubelet read
 * `auth`, some clients only the pair.
 */
export function dockerConfig(
  registryHost: string,
  username: string,
  password: string,
): DockerConfig {
  return {
    auths: {
      [registryHost]: {
        username,
        password,
        auth: Buffer.from(`${username}:${password}`, "utf8").toString("base64"),
      },
    },
  };
}

/** {@link dockerConfig} serialised as the text of a `.dockerconfigjson` key. */
export function dockerConfigJson(registryHost: string, username: string, password: string): string {
  return JSON.stringify(dockerConfig(registryHost, username, password));
}
