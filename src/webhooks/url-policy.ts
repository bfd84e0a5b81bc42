/**
 * Which webhook URLs an operator may set (PROTOCOL §9 safety): `https` only in production,
 * no credentials in the URL, and unless private targets are allowed, a host that resolves
 * only to public unicast addresses. The same address check runs again at every delivery, on
 * the address connected to (`delivery.ts`): this one only refuses obvious mistakes early.
 */
import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";

/** Why `url` may not be a webhook URL, or null when it may. */
export async function webhookUrlProblem(
  url: string,
  policy: { httpsOnly: boolean; allowPrivate: boolean },
): Promise<string | null> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return "The webhook url must be a valid url.";
  }
  if (target.protocol !== "https:" && (policy.httpsOnly || target.protocol !== "http:")) {
    return policy.httpsOnly ? "The webhook url must use https." : "The webhook url must use http or https.";
  }
  if (target.username || target.password) return "The webhook url must not carry credentials.";
  if (policy.allowPrivate) return null;
  const host = target.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  try {
    addresses = ipaddr.isValid(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return "The webhook url's host does not resolve.";
  }
  const isPublic = (a: string) => {
    const parsed = ipaddr.process(a);
    return parsed.range() === "unicast";
  };
  return addresses.length > 0 && addresses.every(isPublic)
    ? null
    : "The webhook url must not point to a private, loopback or link-local address.";
}
