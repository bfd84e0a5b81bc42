/**
 * The end-to-end example of docs/clients.md on the client SDK (`vet-consultation-gateway/client`):
 * a vet comes online, an owner requests a chat, the vet accepts, the owner ends it, the
 * vet's feedback reaches the owner.
 *
 *   ADMIN_TOKEN=dev-admin-token npm start          # in one terminal
 *   ADMIN_TOKEN=dev-admin-token npx tsx examples/end-to-end.ts
 */
import { createOwnerClient, createVetClient, GatewayError } from "../src/client/index.js";

const base = process.env.GATEWAY_URL ?? "http://localhost:3000";
const admin = `Bearer ${process.env.ADMIN_TOKEN ?? "dev-admin-token"}`;
const basic = `Basic ${Buffer.from("petcube:petcube-secret-123456").toString("base64")}`;

async function call(method: string, path: string, auth: string | null, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { success: boolean; status_code: number };
  // 409: created by an earlier run of this example.
  if (!json.success && json.status_code !== 409) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

// 0. Operator and partner setup (idempotent).
await call("POST", "/admin/v1/apps", admin, { name: "petcube", secret: "petcube-secret-123456" });
await call("POST", "/admin/v1/vets", admin, {
  email: "dr.kim@example.com",
  password: "vet-password",
  first_name: "Ana",
  last_name: "Kim",
});
await call("POST", "/api/v2/petcube/register-user", basic, {
  first_name: "Sam",
  email: "sam@example.com",
  role: "users",
  pet: { name: "Rex", species: "dog" },
});

// 1. The vet comes online. getToken is called at connect, before expiry and when refused.
const vet = createVetClient({
  url: base,
  getToken: async () =>
    (await call("POST", "/vet/v1/login", null, { email: "dr.kim@example.com", password: "vet-password" })).data,
});
vet.onStatus((s) => console.log(`vet: ${s}`));
vet.on("consult:offer", (offer) => {
  vet.accept(offer.consultation_id).then(
    (c) => console.log(`vet: accepted, joining ${c.channel} as ${c.identity}`),
    (err: GatewayError) => console.log(`vet: accept refused (${err.kind} ${err.statusCode})`),
  );
});
vet.on("consult:ended", (e) => {
  console.log(`vet: consultation ended by ${e.ended_by}; sending feedback`);
  void vet.sendFeedback(e.consultation_id, "Rest two days", "Mild cough", "resolved");
});
await vet.setAvailability("available");

// 2. The owner asks for a vet. In a real app getToken asks the partner's own server,
//    which calls POST /api/v2/{name}/socket-token with its app credentials.
const owner = createOwnerClient({
  url: base,
  getToken: async () => (await call("POST", "/api/v2/petcube/socket-token", basic, { email: "sam@example.com" })).data,
});
owner.on("consult:queued", (q) => console.log(`owner: queued at position ${q.position}`));
owner.on("consult:state", (s) => console.log(`owner: resuming consultation ${s.consultation_id} (${s.status})`));

// 3. Matched: the owner would join the Twilio Conversation `channel` with `twilioToken`; here it ends it.
owner.on("consult:matched", (m) => {
  console.log(`owner: matched with ${m.vet.username} in ${m.channel}`);
  void owner.end(m.consultation_id);
});

// 4. The vet's feedback reaches the owner.
owner.on("consult:feedback", (f) => {
  console.log(`owner: feedback from ${f.vet_first_name} ${f.vet_last_name}: ${f.recommendation} (${f.reason})`);
  vet.close();
  owner.close();
  process.exit(0);
});

const pets = await call("GET", "/api/v2/petcube/pet/list?email=sam@example.com", basic);
const req = await owner.request({ conversation_request: "chat", pet_id: pets.data.list[0].id });
console.log(`owner: request ${JSON.stringify(req)}`);
setTimeout(() => {
  console.error("no feedback within 10 s");
  process.exit(1);
}, 10_000).unref();
