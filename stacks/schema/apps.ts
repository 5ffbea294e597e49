import { z } from "zod";
import {
  DNS_1035_LABEL,
  IMAGE_DIGEST,
  IMAGE_REPOSITORY,
  IMAGE_TAG,
  LOWERCASE_HOSTNAME,
} from "../../components/formats";
import { DEPLOY_METHODS } from "../model";
import {
  KEY_DOCS,
  dnsLabel,
  dnsSubdomain,
  gitlabPath,
  nonEmpty,
  positiveInt,
  quantity,
} from "./formats";
import { WILDCARD_OR_HOSTNAME } from "../../components/app-admission";
import { resources } from "./runner";

/** One entry of `apps[]` as a user writes it. */
export const app = z.strictObject({
  // App names become Service names, which must start with a letter (RFC 1035).
  name: z
    .string()
    .regex(
      DNS_1035_LABEL,
      "expected a DNS-1035 label (a lowercase letter first, then lowercase letters, digits and '-', at most 63)",
    )
    .describe("Unique per stack; names the Deployment, Service and ServiceAccount.")
    .register(KEY_DOCS, { type: "DNS-1035 label" }),
  namespace: dnsLabel
    .optional()
    .describe("Kubernetes namespace; no two apps share one.")
    .register(KEY_DOCS, { default: "`name` (`<name>-<stack>` in review)" }),
  project: gitlabPath.describe("The app's repository."),
  image: z
    .strictObject({
      repository: z
        .string()
        .regex(IMAGE_REPOSITORY, "expected an image repository without tag")
        .optional()
        .describe("Image repository without tag or digest.")
        .register(KEY_DOCS, { type: "image repository", default: "`<registryHost>/<project>`" }),
      tag: z
        .string()
        .regex(IMAGE_TAG, "expected an image tag")
        .optional()
        .describe("Tag of the initial image; exactly one of `tag` and `digest` is required.")
        .register(KEY_DOCS, { type: "image tag" }),
      digest: z
        .string()
        .regex(IMAGE_DIGEST, "expected a digest sha256:<64 hex>")
        .optional()
        .describe("Digest of the initial image; exactly one of `tag` and `digest` is required.")
        .register(KEY_DOCS, { type: "`sha256:…`" }),
      promote: z
        .string()
        .regex(IMAGE_TAG, "expected an image tag")
        .optional()
        .describe(
          "Promote this tag (e.g. the commit SHA that passed staging) by its digest: resolved in the registry at preview time, the platform then owns what runs (`direct`/`agent`: the Deployment's image `<repository>@<digest>`; `flux`: the OCIRepository follows the `<repository>/manifests` artifact at that digest). Instead of `tag` and `digest`; required for `flux` apps in production.",
        )
        .register(KEY_DOCS, { type: "image tag" }),
    })
    .optional()
    .describe("The image the Deployment starts with; CI owns it afterwards."),
  port: z
    .int("expected an integer")
    .min(1, "expected a port 1-65535")
    .max(65535, "expected a port 1-65535")
    .optional()
    .describe("Container port."),
  replicas: positiveInt(100)
    .optional()
    .describe(
      "At least 2 in production. With `autoscaling`, the fewest pods the autoscaler keeps.",
    ),
  autoscaling: z
    .strictObject({
      maxReplicas: positiveInt(100).describe(
        "The most pods the autoscaler may run; at least `replicas`.",
      ),
      targetCpuUtilization: z
        .int("expected an integer")
        .min(1, "expected a percentage 1-100")
        .max(100, "expected a percentage 1-100")
        .optional()
        .describe("Average CPU utilization to keep, in percent of the CPU request. Default 70."),
    })
    .optional()
    .describe(
      "A HorizontalPodAutoscaler (autoscaling/v2, needs metrics-server in the cluster) scaling the Deployment between `replicas` and `maxReplicas` on CPU; the Deployment then leaves its replica count to it. The namespace quota must fit `maxReplicas` pods plus one surge pod. Not for `flux` apps (their manifests own their objects).",
    ),
  resources: resources.optional().describe("Requests and limits of the app's container."),
  method: z
    .enum(DEPLOY_METHODS)
    .optional()
    .describe(
      "How the app reaches the cluster; `agent` needs `features.agent`, `flux` needs `features.flux`, `direct` needs `kubeApiServer`.",
    ),
  ingress: z
    .strictObject({
      host: z
        .string()
        .regex(LOWERCASE_HOSTNAME, "expected a lowercase host name without scheme or path")
        .describe("Host name the app is served on.")
        .register(KEY_DOCS, { type: "lowercase host name" }),
      className: nonEmpty
        .optional()
        .describe("`ingressClassName`; the cluster's default when omitted."),
      tls: z
        .strictObject({
          secretName: dnsSubdomain
            .optional()
            .describe("The `kubernetes.io/tls` Secret in the app's namespace.")
            .register(KEY_DOCS, { default: "`<name>-tls`" }),
          clusterIssuer: dnsSubdomain
            .optional()
            .describe(
              "cert-manager ClusterIssuer that issues the certificate into `secretName` (annotation `cert-manager.io/cluster-issuer`).",
            ),
        })
        .optional()
        .describe(
          "TLS for the host; the app's URL is `https://<host>` with it and `http://<host>` without.",
        ),
    })
    .optional()
    .describe("Optional ingress."),
  allowedHosts: z
    .array(
      z
        .string()
        .regex(
          WILDCARD_OR_HOSTNAME,
          "expected a lowercase host name, or *.<domain> for any one label under it",
        ),
    )
    .optional()
    .describe(
      "More hosts Ingresses in the app's namespace may route besides `ingress.host` (Ingresses its pipeline or its Flux manifests create): exact names, or `*.<domain>` for any one DNS label under `<domain>` (review apps at `<branch slug>.<domain>`). Enforced at admission: an Ingress naming any other host, or none, is refused.",
    )
    .register(KEY_DOCS, { type: "host names or `*.<domain>`", default: "none" }),
  allowExternalServices: z
    .boolean()
    .optional()
    .describe(
      "Allow Services of type LoadBalancer or NodePort, and `externalIPs`, in the app's namespace (enforced at admission; otherwise refused for everyone who writes there).",
    )
    .register(KEY_DOCS, { default: "`false`" }),
  podDisruptionBudget: z
    .boolean()
    .optional()
    .describe("Create a PodDisruptionBudget (only with more than one replica)."),
  quota: z
    .strictObject({
      requestsCpu: quantity.optional().describe("`requests.cpu`."),
      requestsMemory: quantity.optional().describe("`requests.memory`."),
      limitsCpu: quantity.optional().describe("`limits.cpu`."),
      limitsMemory: quantity.optional().describe("`limits.memory`."),
      pods: positiveInt(10000).optional().describe("Maximum pods."),
    })
    .optional()
    .describe("This app's namespace ResourceQuota, over `appNamespaces.quota`.")
    .register(KEY_DOCS, { default: "`appNamespaces.quota`" }),
  egress: z
    .array(
      z.strictObject({
        cidr: z
          .string()
          .regex(
            /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/,
            "expected a CIDR such as 10.0.0.0/16",
          )
          .optional()
          .describe("An IP block the app calls (exactly one of `cidr` and `namespace`)."),
        namespace: dnsLabel
          .optional()
          .describe(
            "A namespace whose pods the app calls (exactly one of `cidr` and `namespace`).",
          ),
        ports: z
          .array(
            z.strictObject({
              port: z
                .int("expected an integer")
                .min(1, "expected a port 1-65535")
                .max(65535, "expected a port 1-65535")
                .describe("Destination port."),
              protocol: z.enum(["TCP", "UDP"]).optional().describe("Protocol (default TCP)."),
            }),
          )
          .min(1, "expected at least one port")
          .describe("Destination ports."),
      }),
    )
    .optional()
    .describe("What the app's pods may reach besides cluster DNS; everything else is denied.")
    .register(KEY_DOCS, { default: "none" }),
  tokenRotation: nonEmpty
    .optional()
    .describe(
      "`direct` apps: change it to rotate the deployer token (the old one is revoked; `KUBE_TOKEN` follows).",
    ),
});
