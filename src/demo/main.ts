/**
 * `npm run demo`: the gateway in demo mode (`DEMO=1`; unless `ADMIN_TOKEN` is set, a random
 * one kept in `DATA_DIR/demo-admin-token`), then a banner with the pages and the logins once
 * it answers. Development only: the configuration refuses demo mode in production.
 */
import { loadOrCreateSecretFile } from "../auth/gateway-secret.js";
import { loadConfig } from "../config.js";
import { DEMO_OWNERS, DEMO_VETS } from "./data.js";

process.env.DEMO = "1";
const ownToken = !process.env.ADMIN_TOKEN;
process.env.ADMIN_TOKEN ??= loadOrCreateSecretFile(process.env.DATA_DIR ?? "./data", "demo-admin-token");

async function waitUntilUp(base: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gateway did not answer at ${base}`);
}

function banner(base: string, adminToken: string): string {
  return [
    "",
    "Vet consultation gateway, demo mode",
    `  vet console   ${base}/console/`,
    `  owner demo    ${base}/demo/`,
    `  operators     ${base}/ops/   (admin token: ${ownToken ? adminToken : "the ADMIN_TOKEN you set"})`,
    `  API docs      ${base}/docs`,
    "",
    "  vets   " + DEMO_VETS.map((v) => `${v.email} / ${v.password}`).join("\n         "),
    "  owners " +
      DEMO_OWNERS.map((o) => `${o.email} (${o.pets.map((p) => `${p.name}, ${p.species}`).join("; ")})`).join(
        "\n         ",
      ),
    "",
    "  Open the console in one tab (log in, go available) and the demo in another.",
    "",
  ].join("\n");
}

const config = loadConfig();
const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
const base = config.publicUrl ?? `http://${host}:${config.port}`;
await import("../main.js");
await waitUntilUp(`http://127.0.0.1:${config.port}`);
process.stdout.write(banner(base.replace(/\/$/, ""), process.env.ADMIN_TOKEN));
