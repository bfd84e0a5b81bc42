import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySecret } from "../../src/lib/passwords.js";
import { openDatabase, type Database } from "../../src/db/database.js";
import { createRepositories } from "../../src/repositories/index.js";
import { AppSecretVerifier } from "../../src/auth/app-secret-verifier.js";
import { createTestDatabase, type TestDatabase } from "../support/services.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the admin CLI as an operator would, against `env` (stdin closed unless given). */
function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["tsx", "src/cli/admin.ts", ...args], {
      cwd: process.cwd(),
      env: { ...process.env, NODE_ENV: "test", LOG_LEVEL: "silent", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}

describe("admin CLI", () => {
  let tdb: TestDatabase;
  let database: Database;
  let env: Record<string, string>;
  beforeAll(async () => {
    tdb = await createTestDatabase("cli");
    env = { DATABASE_URL: tdb.url };
  });
  afterAll(async () => {
    await database?.close();
    await tdb?.drop();
  });

  it("creates an app (secret as a flag) that the repository then finds", { timeout: 60_000 }, async () => {
    const secret = "cli-secret-0123456789";
    const res = await runCli(
      ["create-app", "--name", "petcube", "--secret", secret, "--media-url", "https://cdn.example.com/p"],
      env,
    );
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const printed = JSON.parse(res.stdout);
    expect(printed).toEqual({ id: expect.any(Number), name: "petcube", media_url: "https://cdn.example.com/p" });

    // The CLI applied the migrations; open the same database and check through the repository.
    database = await openDatabase({ url: tdb.url });
    const apps = createRepositories(database).apps;
    expect(await apps.findByName("petcube")).toEqual({
      id: printed.id,
      name: "petcube",
      mediaUrl: "https://cdn.example.com/p",
    });
    const stored = await apps.findWithSecret(printed.id);
    expect(await verifySecret(secret, stored!.secretHash)).toBe(true);
  });

  it("reads the secret from stdin or the environment instead of a flag", { timeout: 60_000 }, async () => {
    const fromStdin = await runCli(
      ["create-app", "--name", "stdin-app", "--secret-stdin"],
      env,
      "stdin-secret-0123456789\n",
    );
    expect(fromStdin.stderr).toBe("");
    expect(fromStdin.code).toBe(0);
    const fromEnv = await runCli(["create-app", "--name", "env-app"], {
      ...env,
      ADMIN_APP_SECRET: "env-secret-0123456789",
    });
    expect(fromEnv.code).toBe(0);

    database ??= await openDatabase({ url: tdb.url });
    const apps = createRepositories(database).apps;
    const a = await apps.findWithSecret(JSON.parse(fromStdin.stdout).id);
    expect(await verifySecret("stdin-secret-0123456789", a!.secretHash)).toBe(true);
    const b = await apps.findWithSecret(JSON.parse(fromEnv.stdout).id);
    expect(await verifySecret("env-secret-0123456789", b!.secretHash)).toBe(true);

    const list = await runCli(["list-apps"], env);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).map((x: { name: string }) => x.name)).toEqual(["petcube", "stdin-app", "env-app"]);
  });

  it("creates a vet with the password from the environment", { timeout: 60_000 }, async () => {
    const res = await runCli(
      ["create-vet", "--email", "Vet@Clinic.example", "--first-name", "Ann", "--last-name", "Lee"],
      {
        ...env,
        ADMIN_VET_PASSWORD: "vet-password-1",
      },
    );
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const vet = JSON.parse(res.stdout);
    expect(vet).toMatchObject({
      email: "vet@clinic.example",
      first_name: "Ann",
      last_name: "Lee",
      identity: `app-1_vet-${vet.id}`,
    });
    expect(res.stdout).not.toContain("vet-password-1");
    database ??= await openDatabase({ url: tdb.url });
    const stored = await createRepositories(database).vets.findCredentials("vet@clinic.example");
    expect(stored?.vet.id).toBe(vet.id);
    expect(await verifySecret("vet-password-1", stored!.passwordHash)).toBe(true);
  });

  it(
    "create-vet takes skills; update-vet sets them by email or id; bad ones fail with one line",
    { timeout: 120_000 },
    async () => {
      const pw = { ...env, ADMIN_VET_PASSWORD: "vet-password-1" };
      const created = await runCli(
        [
          "create-vet",
          "--email",
          "skills@clinic.example",
          "--first-name",
          "Sam",
          "--last-name",
          "Ode",
          "--species",
          "Dog, cat,dog",
          "--languages",
          "en,es",
          "--max-chats",
          "3",
          "--licenses",
          "us-ca,GB",
        ],
        pw,
      );
      expect(created.stderr).toBe("");
      expect(created.code).toBe(0);
      const vet = JSON.parse(created.stdout);
      expect(vet).toMatchObject({
        email: "skills@clinic.example",
        species: ["dog", "cat"],
        languages: ["en", "es"],
        max_chats: 3,
        licenses: ["US-CA", "GB"],
      });

      const byEmail = await runCli(
        ["update-vet", "--email", "Skills@Clinic.example", "--species", "", "--max-chats", "default"],
        env,
      );
      expect(byEmail.stderr).toBe("");
      expect(byEmail.code).toBe(0);
      expect(JSON.parse(byEmail.stdout)).toMatchObject({
        id: vet.id,
        species: [],
        languages: ["en", "es"],
        max_chats: null,
        active: true,
      });
      const byId = await runCli(["update-vet", "--id", String(vet.id), "--languages", "fr", "--licenses", ""], env);
      expect(byId.code).toBe(0);
      database ??= await openDatabase({ url: tdb.url });
      expect(await createRepositories(database).vets.findById(vet.id)).toMatchObject({
        species: [],
        languages: ["fr"],
        maxChats: null,
        licenses: [],
      });

      const bad = await runCli(
        ["update-vet", "--id", String(vet.id), "--languages", "en,xx", "--max-chats", "11"],
        env,
      );
      expect(bad.code).toBe(1);
      expect(bad.stderr).toBe(
        "error: The selected languages.1 is invalid. The max chats must not be greater than 10.\n",
      );
      const nothing = await runCli(["update-vet", "--id", String(vet.id)], env);
      expect(nothing.code).toBe(1);
      expect(nothing.stderr).toBe(
        "error: At least one of --species, --languages, --max-chats, --licenses is required.\n",
      );
      const badLicence = await runCli(["update-vet", "--id", String(vet.id), "--licenses", "US-ZZ"], env);
      expect(badLicence.code).toBe(1);
      expect(badLicence.stderr).toBe(
        "error: The licenses.0 must hold ISO 3166 country or subdivision codes, such as GB or US-CA.\n",
      );
      const both = await runCli(["update-vet", "--id", "1", "--email", "a@b.c", "--languages", "en"], env);
      expect(both.code).toBe(2);
      expect(both.stderr).toBe("error: update-vet needs --id or --email (one of them)\n");
      const unknown = await runCli(["update-vet", "--email", "nobody@clinic.example", "--languages", "en"], env);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toBe("error: vet not found: nobody@clinic.example\n");
      // Nothing changed by the refused calls.
      expect(await createRepositories(database).vets.findById(vet.id)).toMatchObject({
        languages: ["fr"],
        maxChats: null,
      });
    },
  );

  it(
    "rotate-app-secret prints a new secret once; the old one stops matching; the verifier is kept under the gateway's key",
    { timeout: 60_000 },
    async () => {
      const keyed = { ...env, GATEWAY_SECRET: "cli-test-gateway-secret-0123456789abcdef" };
      expect(
        (await runCli(["create-app", "--name", "rotating", "--secret", "first-secret-0123456789"], keyed)).code,
      ).toBe(0);
      const res = await runCli(["rotate-app-secret", "--name", "rotating"], keyed);
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
      const printed = JSON.parse(res.stdout) as { id: number; name: string; secret: string };
      expect(printed).toMatchObject({ name: "rotating", secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
      database ??= await openDatabase({ url: tdb.url });
      const apps = createRepositories(database).apps;
      const stored = await apps.findWithSecret(printed.id);
      expect(await verifySecret(printed.secret, stored!.secretHash)).toBe(true);
      expect(await verifySecret("first-secret-0123456789", stored!.secretHash)).toBe(false);
      const verifier = new AppSecretVerifier(keyed.GATEWAY_SECRET);
      const row = (await apps.listForAuth()).find((a) => a.id === printed.id)!;
      expect(verifier.matches(row.secretVerifier!, "rotating", printed.secret)).toBe(true);
      // By id too; an unknown app fails with one line.
      expect((await runCli(["rotate-app-secret", "--id", String(printed.id)], keyed)).code).toBe(0);
      const missing = await runCli(["rotate-app-secret", "--name", "nope"], keyed);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe("error: app not found: nope\n");
    },
  );

  it(
    "reset-vet-password takes the password from stdin or the environment, never a flag, and bumps the session version",
    { timeout: 60_000 },
    async () => {
      const pw = { ...env, ADMIN_VET_PASSWORD: "initial-password-1" };
      const created = JSON.parse(
        (
          await runCli(
            ["create-vet", "--email", "reset@clinic.example", "--first-name", "Re", "--last-name", "Set"],
            pw,
          )
        ).stdout,
      ) as { id: number };
      const flag = await runCli(
        ["reset-vet-password", "--email", "reset@clinic.example", "--password", "flagged-password-1"],
        env,
      );
      expect(flag.code).toBe(2);
      expect(flag.stderr).toContain("never --password");
      const viaStdin = await runCli(
        ["reset-vet-password", "--email", "reset@clinic.example", "--password-stdin"],
        env,
        "stdin-password-1\n",
      );
      expect(viaStdin.stderr).toBe("");
      expect(viaStdin.code).toBe(0);
      expect(viaStdin.stdout).not.toContain("stdin-password-1");
      database ??= await openDatabase({ url: tdb.url });
      const vets = createRepositories(database).vets;
      let found = await vets.findCredentials("reset@clinic.example");
      expect(await verifySecret("stdin-password-1", found!.passwordHash)).toBe(true);
      expect(found!.vet.sessionVersion).toBe(1);
      const viaEnv = await runCli(["reset-vet-password", "--id", String(created.id)], {
        ...env,
        ADMIN_VET_PASSWORD: "env-password-12",
      });
      expect(viaEnv.code).toBe(0);
      found = await vets.findCredentials("reset@clinic.example");
      expect(await verifySecret("env-password-12", found!.passwordHash)).toBe(true);
      expect(found!.vet.sessionVersion).toBe(2);
      const none = await runCli(["reset-vet-password", "--id", String(created.id)], env);
      expect(none.code).toBe(2);
      const short = await runCli(
        ["reset-vet-password", "--id", String(created.id), "--password-stdin"],
        env,
        "short\n",
      );
      expect(short.code).toBe(1);
    },
  );

  it(
    "set-webhook prints the secret once; rotate-webhook-secret makes a new one; --remove stops them",
    { timeout: 60_000 },
    async () => {
      const keyed = { ...env, GATEWAY_SECRET: "cli-test-gateway-secret-0123456789abcdef" };
      expect(
        (await runCli(["create-app", "--name", "hooked-cli", "--secret", "hooked-secret-0123456789"], keyed)).code,
      ).toBe(0);
      const set = await runCli(["set-webhook", "--name", "hooked-cli", "--url", "http://127.0.0.1:9/hooks"], keyed);
      expect(set.stderr).toBe("");
      const first = JSON.parse(set.stdout) as { webhook_url: string; webhook_secret: string };
      expect(first).toMatchObject({
        name: "hooked-cli",
        webhook_url: "http://127.0.0.1:9/hooks",
        webhook_secret: expect.stringMatching(/^whsec_/),
      });
      // A changed URL keeps the secret (not printed again); rotation prints a new one.
      const moved = JSON.parse(
        (await runCli(["set-webhook", "--name", "hooked-cli", "--url", "http://127.0.0.1:9/other"], keyed)).stdout,
      ) as Record<string, unknown>;
      expect(moved).toMatchObject({ webhook_url: "http://127.0.0.1:9/other" });
      expect(moved).not.toHaveProperty("webhook_secret");
      const rotated = JSON.parse((await runCli(["rotate-webhook-secret", "--name", "hooked-cli"], keyed)).stdout) as {
        webhook_secret: string;
      };
      expect(rotated.webhook_secret).toMatch(/^whsec_/);
      expect(rotated.webhook_secret).not.toBe(first.webhook_secret);
      const removed = JSON.parse(
        (await runCli(["set-webhook", "--name", "hooked-cli", "--remove"], keyed)).stdout,
      ) as Record<string, unknown>;
      expect(removed).toMatchObject({ webhook_url: null });
      const none = await runCli(["rotate-webhook-secret", "--name", "hooked-cli"], keyed);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain("has no webhook url");
      expect((await runCli(["set-webhook", "--name", "hooked-cli"], keyed)).code).toBe(2);
    },
  );

  it("fails with one clear line and a non-zero status", { timeout: 60_000 }, async () => {
    const dup = await runCli(["create-app", "--name", "petcube", "--secret", "another-secret-0123456"], env);
    expect(dup.code).toBe(1);
    expect(dup.stdout).toBe("");
    expect(dup.stderr).toBe("error: The name has already been taken.\n");

    const invalid = await runCli(["create-app", "--name", "Bad Name", "--secret", "short"], env);
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr.trim().split("\n")).toHaveLength(1);
    expect(invalid.stderr).toContain("The name format is invalid.");
    expect(invalid.stderr).toContain("The secret must be at least 16 characters.");

    const noSecret = await runCli(["create-app", "--name", "nosecret"], env);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(/^error: a secret is required/);

    const unknown = await runCli(["frobnicate"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("error: unknown command: frobnicate (see --help)\n");

    const badConfig = await runCli(["list-apps"], { ...env, PORT: "abc" });
    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr.trim().split("\n")).toHaveLength(1);
    expect(badConfig.stderr).toContain("PORT");

    const help = await runCli(["--help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("ADMIN_APP_SECRET");
    expect(help.stdout).toContain("--secret-stdin");
  });
});
