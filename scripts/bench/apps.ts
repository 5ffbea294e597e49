import { readStackConfig } from "../../test/harness/program";

/**
 * `count` apps generated from the dev stack's apps, each its own project: app `i` copies dev app
 * `i % n` (method, port, image, ingress) under the name `<name>-<i>` in project `acme/<name>-<i>`.
 */
export function generatedApps(count: number): Record<string, unknown>[] {
  const templates = readStackConfig("dev").values["platform:apps"] as Record<string, unknown>[];
  return Array.from({ length: count }, (_, i) => {
    const template = templates[i % templates.length] ?? {};
    const name = `${String(template["name"])}-${i}`;
    const ingress = template["ingress"] as { host: string } | undefined;
    return {
      ...template,
      name,
      project: `acme/${name}`,
      ...(ingress === undefined
        ? {}
        : { ingress: { ...ingress, host: `${name}.dev.example.com` } }),
    };
  });
}
