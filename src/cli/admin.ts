/**
 * Operator CLI: create apps and vets, list apps, straight against the database the gateway
 * uses (same environment as the server: DATABASE_URL or PGlite under DATA_DIR).
 *
 *   npm run -s admin -- create-app --name petcube --secret-stdin < secret.txt
 *   npm run -s admin -- create-vet --email a@b.c --first-name Ann --last-name Lee   # password from $ADMIN_VET_PASSWORD
 *   npm run -s admin -- create-vet … --species dog,cat --languages en,es --max-chats 2 --licenses US-CA,GB
 *   npm run -s admin -- update-vet --email a@b.c --species "" --max-chats default
 *   npm run -s admin -- list-apps
 *   npm run -s admin -- rotate-app-secret --name petcube          # prints the new secret once
 *   npm run -s admin -- reset-vet-password --email a@b.c --password-stdin < password.txt
 *   npm run -s admin -- set-webhook --name petcube --url https://partner.example.com/hooks
 *   npm run -s admin -- consultation 6f1c…   # the same JSON as GET /admin/v1/consultations/{id}
 */
import { realpathSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { asc } from "drizzle-orm";
import { z } from "zod";
import { ConfigError, loadConfig } from "../config.js";
import { openDatabase, type Database } from "../db/database.js";
import { apps } from "../db/schema.js";
import { appJson, vetJson } from "../http/presenters/admin.js";
import { createAppSchema, createVetSchema, vetAttributeFields, vetPasswordSchema } from "../http/schemas/admin.js";
import { AppSecretVerifier, generateAppSecret } from "../auth/app-secret-verifier.js";
import { readGatewaySecret } from "../auth/gateway-secret.js";
import { systemClock } from "../lib/clock.js";
import { createLogger } from "../lib/logger.js";
import { WebhookService, WebhookUrlRefused } from "../webhooks/service.js";
import { appAdminJson } from "../http/presenters/webhooks.js";
import { webhookUrlSchema } from "../http/schemas/admin.js";
import { consultationAuditJson } from "../http/presenters/admin.js";
import { validationMessages } from "../transport/validation.js";
import { AppError } from "../lib/app-error.js";
import { ConsultationReader } from "../repositories/consultation-reader.js";
import { createRepositories } from "../repositories/index.js";

/** Environment variables read when neither the flag nor `--*-stdin` gives the value. */
export const SECRET_ENV = "ADMIN_APP_SECRET";
export const PASSWORD_ENV = "ADMIN_VET_PASSWORD";

const HELP = `Usage: npm run -s admin -- <command> [options]

Commands:
  create-app   --name NAME [--secret SECRET | --secret-stdin] [--media-url URL]
               NAME is the /api/v2/{name} path segment: ^[a-z0-9][a-z0-9_-]{1,62}$.
               SECRET must be at least 16 characters.
  create-vet   --email EMAIL --first-name FIRST --last-name LAST
               [--password PASSWORD | --password-stdin] [--profile-image URL]
               [--species LIST] [--languages LIST] [--max-chats N] [--licenses LIST]
               PASSWORD must be at least 8 characters.
  update-vet   (--id ID | --email EMAIL) [--species LIST] [--languages LIST] [--max-chats N]
               [--licenses LIST]
               Sets a vet's routing skills (at least one option). A running gateway
               applies them when the vet next connects; PATCH /admin/v1/vets/{id}
               applies them at once.
  Skills:      --species   comma-separated lower-case species the vet treats, e.g.
                           dog,cat; "" = every species (the default). At most 20.
               --languages comma-separated ISO 639-1 codes, e.g. en,es (default en).
               --max-chats chat consultations held at once, 1-10; "default" =
                           VET_MAX_CONSULTS (the default).
               --licenses  comma-separated ISO 3166 codes where the vet may treat, e.g.
                           US-CA,GB (GB covers every GB-*); "" = nowhere (the default).
  list-apps    Prints every app (id, name, media_url).
  rotate-app-secret (--id ID | --name NAME)
               Gives the app a new random secret and prints it once (the old one stops
               working at once; a running gateway notices within 5 s).
  set-webhook (--id ID | --name NAME) (--url URL | --remove)
               Sets where the app's webhooks go (PROTOCOL §9). An app that had no webhook
               gets a signing secret, printed once as webhook_secret; --remove stops them.
  rotate-webhook-secret (--id ID | --name NAME)
               A new webhook signing secret, printed once.
  reset-vet-password (--id ID | --email EMAIL) [--password-stdin]
               Sets a vet's password from standard input or ${PASSWORD_ENV} (never a flag)
               and revokes every session of the vet: a running gateway refuses the vet's
               tokens from then on and closes its open consoles within 10 s.
  consultation ID
               Prints one consultation with its events, offers and feedback (the data
               of GET /admin/v1/consultations/{id}); exit status 1 when unknown.
  help         This text.

Secrets: to keep them out of shell history and process lists, leave out --secret/--password
and either pipe the value on standard input with --secret-stdin / --password-stdin (one
trailing newline is removed), or set ${SECRET_ENV} / ${PASSWORD_ENV} in the environment.
Order of precedence: the flag, then stdin, then the environment variable.

The database is the gateway's own: DATABASE_URL (PostgreSQL) or, when unset, PGlite under
DATA_DIR (default ./data; PGlite allows one process at a time, so stop the gateway first).
Migrations are applied on open. Output is JSON on stdout; errors are one line on stderr
and a non-zero exit status (1 failure, 2 usage).
`;

/** A failure reported as one line; `code` is the exit status. */
class CliError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

/** The I/O the CLI touches, injectable for tests. */
export interface CliIo {
  env: Record<string, string | undefined>;
  readStdin(): Promise<string>;
  out(text: string): void;
  err(text: string): void;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

const processIo: CliIo = {
  env: process.env,
  readStdin: () => readAll(process.stdin),
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

async function secretFrom(
  io: CliIo,
  flag: string | undefined,
  fromStdin: boolean | undefined,
  envName: string,
): Promise<string | undefined> {
  if (flag !== undefined) return flag;
  if (fromStdin) return (await io.readStdin()).replace(/\r?\n$/, "");
  return io.env[envName] || undefined;
}

function check<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new CliError(validationMessages(parsed.error).join(" "));
  return parsed.data;
}

/** `update-vet`: the skills to set, at least one. */
const vetSkillsSchema = z.object(vetAttributeFields).refine((b) => Object.values(b).some((x) => x !== undefined), {
  error: "At least one of --species, --languages, --max-chats, --licenses is required.",
});

/** A comma-separated flag as a list; "" is the empty list. */
const list = (flag: string | undefined): string[] | undefined =>
  flag === undefined
    ? undefined
    : flag
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");

/** The skill flags in the admin API's shape (zod validates them). */
function skillFlags(v: {
  species?: string | undefined;
  languages?: string | undefined;
  "max-chats"?: string | undefined;
  licenses?: string | undefined;
}) {
  const max = v["max-chats"];
  return {
    species: list(v.species),
    languages: list(v.languages),
    licenses: list(v.licenses),
    max_chats: max === undefined ? undefined : max === "default" ? null : /^\d{1,3}$/.test(max) ? Number(max) : max,
  };
}

/** `--id` or `--email`, exactly one. */
function vetTarget(
  command: string,
  id: string | undefined,
  email: string | undefined,
): { id: number } | { email: string } {
  if ((id === undefined) === (email === undefined))
    throw new CliError(`${command} needs --id or --email (one of them)`, 2);
  if (email !== undefined) return { email };
  if (!/^\d{1,9}$/.test(id ?? "")) throw new CliError(`--id must be a vet id (a positive integer), not ${id ?? ""}`, 2);
  return { id: Number(id) };
}

/** `--id` or `--name`, exactly one. */
function appTarget(
  command: string,
  id: string | undefined,
  name: string | undefined,
): { id: number } | { name: string } {
  if ((id === undefined) === (name === undefined))
    throw new CliError(`${command} needs --id or --name (one of them)`, 2);
  if (name !== undefined) return { name };
  if (!/^\d{1,9}$/.test(id ?? ""))
    throw new CliError(`--id must be an app id (a positive integer), not ${id ?? ""}`, 2);
  return { id: Number(id) };
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        name: { type: "string" },
        secret: { type: "string" },
        "secret-stdin": { type: "boolean" },
        "media-url": { type: "string" },
        email: { type: "string" },
        password: { type: "string" },
        "password-stdin": { type: "boolean" },
        "first-name": { type: "string" },
        "last-name": { type: "string" },
        "profile-image": { type: "string" },
        species: { type: "string" },
        languages: { type: "string" },
        "max-chats": { type: "string" },
        licenses: { type: "string" },
        id: { type: "string" },
        url: { type: "string" },
        remove: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new CliError(`${err instanceof Error ? err.message : String(err)} (see --help)`, 2);
  }
}

/** Runs one CLI invocation; resolves to the exit status. */
export async function runAdminCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let database: Database | undefined;
  try {
    const { values: v, positionals } = parse(argv);
    const command = positionals[0];
    if (v.help || command === undefined || command === "help") {
      io.out(HELP);
      return command === undefined && !v.help ? 2 : 0;
    }
    const maxPositionals = command === "consultation" ? 2 : 1;
    const commands = [
      "create-app",
      "create-vet",
      "update-vet",
      "list-apps",
      "consultation",
      "rotate-app-secret",
      "reset-vet-password",
      "set-webhook",
      "rotate-webhook-secret",
    ];
    if (positionals.length > maxPositionals) {
      throw new CliError(`unexpected argument: ${positionals[maxPositionals]} (see --help)`, 2);
    }
    if (command === "consultation" && positionals[1] === undefined)
      throw new CliError("consultation needs an ID (see --help)", 2);
    if (!commands.includes(command)) {
      throw new CliError(`unknown command: ${command} (see --help)`, 2);
    }

    // Validate the input before touching the database, so typos fail fast.
    let appInput: z.output<typeof createAppSchema> | undefined;
    let vetInput: z.output<typeof createVetSchema> | undefined;
    let vetUpdate: { target: { id: number } | { email: string }; skills: z.output<typeof vetSkillsSchema> } | undefined;
    let passwordReset: { target: { id: number } | { email: string }; password: string } | undefined;
    let rotation: { id: number } | { name: string } | undefined;
    /** `url`: set (string), remove (null), or keep and rotate the secret (undefined). */
    let webhook: { target: { id: number } | { name: string }; url: string | null | undefined } | undefined;
    if (command === "create-app") {
      const secret = await secretFrom(io, v.secret, v["secret-stdin"], SECRET_ENV);
      if (secret === undefined)
        throw new CliError(`a secret is required: --secret, --secret-stdin or ${SECRET_ENV}`, 2);
      appInput = check(createAppSchema, { name: v.name, secret, media_url: v["media-url"] });
    } else if (command === "create-vet") {
      const password = await secretFrom(io, v.password, v["password-stdin"], PASSWORD_ENV);
      if (password === undefined) {
        throw new CliError(`a password is required: --password, --password-stdin or ${PASSWORD_ENV}`, 2);
      }
      vetInput = check(createVetSchema, {
        email: v.email,
        password,
        first_name: v["first-name"],
        last_name: v["last-name"],
        profile_image: v["profile-image"],
        ...skillFlags(v),
      });
    } else if (command === "update-vet") {
      vetUpdate = { target: vetTarget(command, v.id, v.email), skills: check(vetSkillsSchema, skillFlags(v)) };
    } else if (command === "reset-vet-password") {
      // Never a flag: a password on the command line shows in shell history and process lists.
      if (v.password !== undefined)
        throw new CliError(
          `reset-vet-password takes the password from --password-stdin or ${PASSWORD_ENV}, never --password`,
          2,
        );
      const password = await secretFrom(io, undefined, v["password-stdin"], PASSWORD_ENV);
      if (password === undefined) throw new CliError(`a password is required: --password-stdin or ${PASSWORD_ENV}`, 2);
      passwordReset = { target: vetTarget(command, v.id, v.email), password: check(vetPasswordSchema, password) };
    } else if (command === "rotate-app-secret") {
      rotation = appTarget(command, v.id, v.name);
    } else if (command === "set-webhook") {
      if ((v.url === undefined) === (v.remove !== true))
        throw new CliError("set-webhook needs --url URL or --remove (one of them)", 2);
      webhook = {
        target: appTarget(command, v.id, v.name),
        url: v.url === undefined ? null : check(webhookUrlSchema, v.url),
      };
    } else if (command === "rotate-webhook-secret") {
      webhook = { target: appTarget(command, v.id, v.name), url: undefined };
    }

    const config = loadConfig(io.env);
    database = await openDatabase({
      url: config.databaseUrl,
      pgliteDir: path.join(config.dataDir, "pglite"),
      timeoutMs: config.databaseTimeoutMs,
    });
    const repos = createRepositories(database);
    // Verifiers are keyed by the gateway's secret; without it the gateway makes one at the
    // app's first authenticated request (one scrypt).
    const gatewaySecret = config.gatewaySecret ?? readGatewaySecret(config.dataDir);
    const verifier = gatewaySecret === undefined ? null : new AppSecretVerifier(gatewaySecret);

    let result: unknown;
    if (appInput) {
      result = appJson(
        await repos.apps.create({
          name: appInput.name,
          secret: appInput.secret,
          verifier: verifier?.make(appInput.name, appInput.secret) ?? null,
          mediaUrl: appInput.media_url ?? null,
        }),
      );
    } else if (rotation) {
      const found =
        "id" in rotation ? await repos.apps.findById(rotation.id) : await repos.apps.findByName(rotation.name);
      if (!found) throw new CliError(`app not found: ${"id" in rotation ? String(rotation.id) : rotation.name}`);
      const secret = generateAppSecret();
      const app = await repos.apps.setSecret(found.id, {
        secret,
        verifier: verifier?.make(found.name, secret) ?? null,
      });
      if (!app) throw new CliError(`app not found: ${String(found.id)}`);
      result = { ...appJson(app), secret };
    } else if (webhook) {
      if (gatewaySecret === undefined) {
        throw new CliError(
          "webhook secrets are sealed with the gateway's secret: set GATEWAY_SECRET, or start the gateway once so it keeps one in DATA_DIR",
        );
      }
      const { target, url } = webhook;
      const found = "id" in target ? await repos.apps.findById(target.id) : await repos.apps.findByName(target.name);
      if (!found) throw new CliError(`app not found: ${"id" in target ? String(target.id) : target.name}`);
      const service = new WebhookService({
        database,
        apps: repos.apps,
        gatewaySecret,
        clock: systemClock,
        logger: createLogger("silent"),
        ...config.webhooks,
      });
      const settings =
        url === undefined ? await service.rotateSecret(found.id) : await service.configure(found.id, url);
      if (!settings)
        throw new CliError(
          url === undefined ? `the app has no webhook url: ${found.name}` : `app not found: ${found.name}`,
        );
      result = {
        ...appAdminJson(settings.app),
        ...(settings.secret !== undefined ? { webhook_secret: settings.secret } : {}),
      };
    } else if (passwordReset) {
      const { target, password } = passwordReset;
      const id = "id" in target ? target.id : (await repos.vets.findByEmail(target.email))?.id;
      const vet = id === undefined ? null : await repos.vets.update(id, { password });
      if (!vet) throw new CliError(`vet not found: ${"id" in target ? String(target.id) : target.email}`);
      result = { ...vetJson(vet, config.twilio.vetAppId), active: vet.active };
    } else if (vetInput) {
      const vet = await repos.vets.create({
        email: vetInput.email,
        password: vetInput.password,
        firstName: vetInput.first_name,
        lastName: vetInput.last_name,
        profileImage: vetInput.profile_image ?? null,
        species: vetInput.species,
        languages: vetInput.languages,
        maxChats: vetInput.max_chats,
        licenses: vetInput.licenses,
      });
      result = vetJson(vet, config.twilio.vetAppId);
    } else if (vetUpdate) {
      const { target, skills } = vetUpdate;
      const id = "id" in target ? target.id : (await repos.vets.findByEmail(target.email))?.id;
      const vet =
        id === undefined
          ? null
          : await repos.vets.update(id, {
              species: skills.species,
              languages: skills.languages,
              maxChats: skills.max_chats,
              licenses: skills.licenses,
            });
      if (!vet) throw new CliError(`vet not found: ${"id" in target ? String(target.id) : target.email}`);
      result = { ...vetJson(vet, config.twilio.vetAppId), active: vet.active };
    } else if (command === "consultation") {
      const found = await new ConsultationReader(database.db).audit(positionals[1] ?? "");
      if (!found) throw new CliError(`consultation not found: ${positionals[1] ?? ""}`);
      result = consultationAuditJson(found);
    } else {
      const rows = await database.db
        .select({ id: apps.id, name: apps.name, mediaUrl: apps.mediaUrl })
        .from(apps)
        .orderBy(asc(apps.id));
      result = rows.map(appJson);
    }
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (err) {
    const code = err instanceof CliError ? err.code : 1;
    const message =
      err instanceof CliError || err instanceof ConfigError || err instanceof WebhookUrlRefused
        ? err.message
        : err instanceof AppError
          ? err.messages.join(" ")
          : err instanceof Error
            ? err.message
            : String(err);
    // One line, whatever the error carried.
    io.err(`error: ${message.replace(/\s*\n\s*/g, " ")}\n`);
    return code;
  } finally {
    await database?.close().catch(() => undefined);
  }
}

function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

// Run only as a program, not when imported (e.g. by tests).
if (isMain()) {
  process.exitCode = await runAdminCli(process.argv.slice(2));
}
