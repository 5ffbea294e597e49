import { execFile, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { findOnPath } from "../../scripts/pulumi";
import { REPO_ROOT } from "../harness/gitlab-ci-local";
import { exampleRepo } from "./java-app";

/**
 * The example's build for real (`npm run test:slow`; not part of `npm test`): the `maven-verify`
 * job of its pipeline, from the build-maven component as the example includes it, run by
 * gitlab-ci-local's shell executor with this machine's Maven, downloading everything from Maven
 * Central into an empty local repository (a cold build). Then the image: this machine cannot
 * reach Docker Hub, so Jib cannot pull the pom's base image; the test builds the same image
 * configuration onto the empty `scratch` base into a tarball (jib:buildTar, no registry, no
 * daemon) and checks the image Jib would push: entrypoint, user, port, the app's classes.
 */

const run = promisify(execFile);
const GITLAB_CI_LOCAL = path.join(REPO_ROOT, "node_modules", ".bin", "gitlab-ci-local");
const mvn = findOnPath("mvn", process.env);

if (mvn === undefined) {
  test.skip("examples/java-app real build: skipped, Maven (mvn) is not installed on this machine", () => {});
} else {
  describe("examples/java-app built for real", () => {
    let dir: string;
    let log: string;
    let seconds: number;

    beforeAll(async () => {
      dir = await exampleRepo(false);
      const started = Date.now();
      try {
        // With an `image:` gitlab-ci-local's shell executor still sets CI_PROJECT_DIR to
        // /builds/<project> although the job runs in the working copy: point it back, so the
        // job's Maven repository (.m2 under CI_PROJECT_DIR) stays in the scratch copy.
        const result = await run(
          GITLAB_CI_LOCAL,
          [
            "--force-shell-executor",
            "--home",
            path.join(dir, ".gitlab-ci-local-home"),
            "--variable",
            `CI_PROJECT_DIR=${dir}`,
            "maven-verify",
          ],
          { cwd: dir, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } },
        );
        log = result.stdout + result.stderr;
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string };
        log = `${e.stdout ?? ""}${e.stderr ?? ""}`;
      }
      seconds = Math.round((Date.now() - started) / 1000);
      console.info(`maven-verify (cold, empty local repository) took ${seconds} s`);
    }, 15 * 60_000);

    afterAll(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test("maven-verify passes: four tests run, none fails", () => {
      expect(log).toContain("PASS  maven-verify");
      expect(log).toContain("Tests run: 4, Failures: 0, Errors: 0, Skipped: 0");
      expect(log).toContain("BUILD SUCCESS");
    });

    test("the job resolved everything into an empty local repository under the project", () => {
      expect(fs.existsSync(path.join(dir, ".m2", "repository", "org", "junit"))).toBe(true);
      expect(fs.existsSync("/builds/acme/java-app")).toBe(false);
    });

    test("its JUnit report is where artifacts:reports:junit looks", () => {
      const report = fs.readFileSync(
        path.join(dir, "target", "surefire-reports", "TEST-com.example.javaapp.AppTest.xml"),
        "utf8",
      );
      expect(report).toMatch(
        /<testsuite [^>]*tests="4"[^>]*errors="0"[^>]*skipped="0"[^>]*failures="0"/,
      );
    });

    test("its artifact is the app's jar: java -jar serves /ready and /hello", async () => {
      const jar = path.join(
        dir,
        ".gitlab-ci-local",
        "artifacts",
        "maven-verify",
        "target",
        "java-app-1.0.0.jar",
      );
      const app = spawn("java", ["-jar", jar], { env: { ...process.env, PORT: "0" } });
      try {
        const port = await new Promise<string>((resolve, reject) => {
          let out = "";
          app.stdout.on("data", (chunk: Buffer) => {
            out += chunk.toString();
            const match = /listening on port (\d+)/.exec(out);
            if (match !== null) {
              resolve(match[1] as string);
            }
          });
          app.on("exit", (code) => reject(new Error(`java -jar exited with ${code}: ${out}`)));
        });
        const ready = await fetch(`http://127.0.0.1:${port}/ready`);
        expect([ready.status, await ready.text()]).toEqual([200, "ready\n"]);
        const hello = await fetch(`http://127.0.0.1:${port}/hello?name=GitLab`);
        expect([hello.status, await hello.text()]).toEqual([200, "Hello, GitLab!\n"]);
      } finally {
        app.kill("SIGTERM");
      }
    }, 60_000);

    describe("the Jib image (base image overridden to scratch: no registry reachable here)", () => {
      let config: {
        config: {
          Entrypoint: string[];
          User: string;
          ExposedPorts: Record<string, unknown>;
          Env: string[];
        };
      };
      let layers: string[];

      beforeAll(async () => {
        // The job's warm repository; `compile` as in maven-image, buildTar instead of build.
        await run(
          mvn,
          [
            "--batch-mode",
            "--no-transfer-progress",
            `-Dmaven.repo.local=${path.join(dir, ".m2", "repository")}`,
            "compile",
            "com.google.cloud.tools:jib-maven-plugin:buildTar",
            "-Djib.from.image=scratch",
            "-Dimage=registry.example.com/acme/java-app:test",
          ],
          { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
        );
        const tar = path.join(dir, "target", "jib-image.tar");
        const { stdout: configJson } = await run("tar", ["-xOf", tar, "config.json"]);
        config = JSON.parse(configJson) as typeof config;
        const { stdout: manifest } = await run("tar", ["-xOf", tar, "manifest.json"]);
        const [{ Layers }] = JSON.parse(manifest) as [{ Layers: string[] }];
        layers = [];
        for (const layer of Layers) {
          const { stdout } = await run("sh", ["-c", `tar -xOf "$0" "$1" | tar -tzf -`, tar, layer]);
          layers.push(...stdout.trim().split("\n"));
        }
      }, 10 * 60_000);

      test("the tarball exists with Jib's digest beside it", () => {
        expect(fs.existsSync(path.join(dir, "target", "jib-image.tar"))).toBe(true);
        expect(fs.readFileSync(path.join(dir, "target", "jib-image.digest"), "utf8")).toMatch(
          /^sha256:[0-9a-f]{64}$/,
        );
      });

      test("entrypoint runs the app's main class with the pom's JVM flags", () => {
        expect(config.config.Entrypoint).toEqual([
          "java",
          "-XX:MaxRAMPercentage=75.0",
          "-Djava.io.tmpdir=/tmp",
          "-cp",
          "@/app/jib-classpath-file",
          "com.example.javaapp.App",
        ]);
      });

      test("numeric non-root user, port 8080, PORT set", () => {
        expect(config.config.User).toBe("10001:10001");
        expect(Object.keys(config.config.ExposedPorts)).toEqual(["8080/tcp"]);
        expect(config.config.Env).toEqual(["PORT=8080"]);
      });

      test("the layers hold the app's classes and Jib's classpath file", () => {
        expect(layers).toEqual(
          expect.arrayContaining([
            "app/classes/com/example/javaapp/App.class",
            "app/jib-classpath-file",
            "app/jib-main-class-file",
          ]),
        );
      });
    });
  });
}
