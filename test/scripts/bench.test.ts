import { ConfigSource, parseEnvironmentConfig } from "../../stacks";
import { generatedApps } from "../../scripts/bench/apps";
import { engineConfig } from "../harness/program";

/** The benchmark's input: apps generated from the dev stack's, each its own project. */
describe("generatedApps", () => {
  test("copies the dev stack's apps in turn, each under its own name and project", () => {
    const apps = generatedApps(3);
    expect(apps.map((a) => [a["name"], a["project"], a["method"]])).toEqual([
      ["web-0", "acme/web-0", "direct"],
      ["api-1", "acme/api-1", "agent"],
      ["web-2", "acme/web-2", "direct"],
    ]);
    expect(apps[2]?.["ingress"]).toEqual({ host: "web-2.dev.example.com" });
  });

  test("200 of them make a valid dev stack", () => {
    const engine = engineConfig("dev", { config: { "platform:apps": generatedApps(200) } });
    const prefix = `${engine.project}:`;
    const values = Object.fromEntries(
      Object.entries(engine.config)
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, text]) => [key.slice(prefix.length), decode(text)]),
    );
    const source: ConfigSource = {
      project: engine.project,
      stack: "dev",
      values,
      gitlabBaseUrl: engine.config["gitlab:baseUrl"],
      gitlabToken: "secret-config",
    };
    expect(parseEnvironmentConfig(source).apps).toHaveLength(200);
  });
});

function decode(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
