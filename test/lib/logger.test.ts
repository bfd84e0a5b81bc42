import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/lib/logger.js";

/** A pino destination that keeps every line in memory. */
function memoryStream() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      cb();
    },
  });
  return { stream, lines };
}

describe("logger redaction", () => {
  it("never writes authorization headers, passwords, secrets or tokens", async () => {
    const secrets = {
      basic: "Basic cGV0Y3ViZTpzM2NyM3Q=",
      bearer: "Bearer admin-token-SECRET-1",
      cookie: "sid=COOKIE-SECRET-2",
      password: "PASSWORD-SECRET-3",
      nestedPassword: "PASSWORD-SECRET-4",
      secret: "APP-SECRET-5",
      nestedSecret: "APP-SECRET-6",
      token: "SOCKET-TOKEN-7",
      twilioToken: "TWILIO-TOKEN-8",
      socketToken: "SOCKET-TOKEN-9",
      apiSecret: "TWILIO-API-SECRET-10",
      gatewaySecret: "GATEWAY-SECRET-11",
      adminToken: "ADMIN-TOKEN-12",
      hash: "scrypt$32768$8$1$SALT$HASH-13",
      setCookie: "sid=SET-COOKIE-14",
    };
    const { stream, lines } = memoryStream();
    const log = createLogger("info", stream);
    log.info(
      {
        req: {
          method: "POST",
          url: "/api/v2/petcube/register-user",
          headers: { authorization: secrets.basic, cookie: secrets.cookie, "content-type": "application/json" },
        },
        res: { headers: { "set-cookie": secrets.setCookie } },
        password: secrets.password,
        body: { email: "ann@example.com", password: secrets.nestedPassword, pet: { token: secrets.token } },
        app: { name: "petcube", secret: secrets.nestedSecret, secretHash: secrets.hash },
        secret: secrets.secret,
        data: { twilioToken: secrets.twilioToken, socket_token: secrets.socketToken },
        config: {
          gatewaySecret: secrets.gatewaySecret,
          adminToken: secrets.adminToken,
          twilio: { apiSecret: secrets.apiSecret },
        },
      },
      "request",
    );
    log.warn({ headers: { Authorization: secrets.bearer } }, "admin call");
    log.child({ requestId: "r1" }).info({ token: secrets.token }, "child");
    await new Promise((resolve) => setImmediate(resolve));

    const text = lines.join("\n");
    expect(lines).toHaveLength(3);
    for (const [name, value] of Object.entries(secrets)) {
      expect(text, `${name} leaked`).not.toContain(value);
    }
    expect(text).not.toContain("cGV0Y3ViZTpzM2NyM3Q");
    // Non-secret context survives, and redaction is visible.
    expect(text).toContain("ann@example.com");
    expect(text).toContain("/api/v2/petcube/register-user");
    expect(text).toContain("application/json");
    expect(text).toContain("[redacted]");
    const first = JSON.parse(lines[0]);
    expect(first.req.headers.authorization).toBe("[redacted]");
    expect(first.body.password).toBe("[redacted]");
    expect(first.config.twilio.apiSecret).toBe("[redacted]");
  });
});
