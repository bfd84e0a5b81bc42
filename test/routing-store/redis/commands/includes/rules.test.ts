/**
 * The Lua rules (`commands/includes/rules.lua`) decide as the TypeScript rules
 * (`src/domain/routing-rules.ts`) do: the same random vets and requests go through both,
 * the Lua through a real Redis (a test-only script that includes rules.lua and evaluates a
 * whole batch of decisions per EVAL), and every decision is compared.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { createClient, type RedisClientType } from "redis";
import {
  canTake,
  chatCapacity,
  inLanguageWindow,
  isEligible,
  languagesOf,
  licensedFor,
  mayGiveCare,
  priorityRank,
  queueComparator,
  treatsSpecies,
  urgentClassOf,
  type RoutedRequest,
  type RoutingRules,
} from "../../../../../src/domain/routing-rules.js";
import type { VetPresence } from "../../../../../src/domain/types.js";
import { COMMANDS_DIR, inlineIncludes } from "../../../../../src/routing-store/redis/scripts.js";
import { REDIS_URL } from "../../../../support/services.js";

type Request = RoutedRequest & { id: string };

interface Batch {
  rules: RoutingRules;
  /** Each decision that depends on the time is taken at each of these. */
  nows: number[];
  vets: VetPresence[];
  requests: Request[];
}

/** Every decision of a batch; the Lua script returns the same shape. */
interface Decisions {
  vets: Array<{
    isEligible: boolean;
    chatCapacity: number;
    languagesOf: string[];
    treatsSpecies: boolean[];
    licensedFor: boolean[];
    mayGiveCare: boolean[];
  }>;
  urgentClassOf: string[];
  at: Array<{
    inLanguageWindow: boolean[];
    priorityRank: number[];
    /** [vet][request] */
    canTake: boolean[][];
    canTakeIgnoringLanguage: boolean[][];
    /** Sign of queueComparator(a, b), [a][b]. */
    queueComparator: number[][];
    /** Request ids sorted by queueComparator. */
    servingOrder: string[];
  }>;
}

// ARGV[1] is a batch as JSON (no key prefix: rules.lua touches no key).
const PARITY_LUA = `--- @include "includes/rules"
local batch = cjson.decode(ARGV[1])
local rules, vets, requests = batch.rules, batch.vets, batch.requests
local out = { vets = {}, urgentClassOf = {}, at = {} }
local function sign(x) if x < 0 then return -1 elseif x > 0 then return 1 end return 0 end
for i, v in ipairs(vets) do
  local treats, licensed, mayGive = {}, {}, {}
  for j, c in ipairs(requests) do
    treats[j] = treatsSpecies(v, c.species)
    licensed[j] = licensedFor(v, c.region)
    mayGive[j] = mayGiveCare(v, c, rules.licensing)
  end
  out.vets[i] = {
    isEligible = isEligible(v, rules.maxConsults), chatCapacity = chatCapacity(v, rules.maxConsults),
    languagesOf = languagesOf(v), treatsSpecies = treats, licensedFor = licensed, mayGiveCare = mayGive,
  }
end
for j, c in ipairs(requests) do out.urgentClassOf[j] = urgentClassOf(c) or '' end
for n, now in ipairs(batch.nows) do
  local at = { inLanguageWindow = {}, priorityRank = {}, canTake = {}, canTakeIgnoringLanguage = {}, queueComparator = {}, servingOrder = {} }
  for j, c in ipairs(requests) do
    at.inLanguageWindow[j] = inLanguageWindow(c, now, rules.languageWaitMs)
    at.priorityRank[j] = priorityRank(c, now, rules.priorityAgingMs)
  end
  for i, v in ipairs(vets) do
    local takes, takesAnyLanguage = {}, {}
    for j, c in ipairs(requests) do
      takes[j] = canTake(v, c, now, rules, false)
      takesAnyLanguage[j] = canTake(v, c, now, rules, true)
    end
    at.canTake[i], at.canTakeIgnoringLanguage[i] = takes, takesAnyLanguage
  end
  local compare = queueComparator(now, rules.priorityAgingMs)
  local sorted = {}
  for j, a in ipairs(requests) do
    local row = {}
    for k, b in ipairs(requests) do row[k] = sign(compare(a, b)) end
    at.queueComparator[j] = row
    sorted[j] = a
  end
  table.sort(sorted, function(a, b) return compare(a, b) < 0 end)
  for j, c in ipairs(sorted) do at.servingOrder[j] = c.id end
  out.at[n] = at
end
return cjson.encode(out)
`;

function decideInTypeScript(b: Batch): Decisions {
  return {
    vets: b.vets.map((v) => ({
      isEligible: isEligible(v, b.rules.maxConsults),
      chatCapacity: chatCapacity(v, b.rules.maxConsults),
      languagesOf: [...languagesOf(v)],
      treatsSpecies: b.requests.map((c) => treatsSpecies(v, c.species)),
      licensedFor: b.requests.map((c) => licensedFor(v, c.region)),
      mayGiveCare: b.requests.map((c) => mayGiveCare(v, c, b.rules.licensing)),
    })),
    urgentClassOf: b.requests.map((c) => urgentClassOf(c) ?? ""),
    at: b.nows.map((now) => {
      const compare = queueComparator(now, b.rules.priorityAgingMs);
      return {
        inLanguageWindow: b.requests.map((c) => inLanguageWindow(c, now, b.rules.languageWaitMs)),
        priorityRank: b.requests.map((c) => priorityRank(c, now, b.rules.priorityAgingMs)),
        canTake: b.vets.map((v) => b.requests.map((c) => canTake(v, c, now, b.rules))),
        canTakeIgnoringLanguage: b.vets.map((v) =>
          b.requests.map((c) => canTake(v, c, now, b.rules, { ignoreLanguage: true })),
        ),
        queueComparator: b.requests.map((a) => b.requests.map((c) => Math.sign(compare(a, c)))),
        servingOrder: [...b.requests].sort(compare).map((c) => c.id),
      };
    }),
  };
}

/** cjson encodes an empty Lua table as `{}`: the one empty list a decision can be. */
function fromLua(reply: string): Decisions {
  const d = JSON.parse(reply) as Decisions;
  for (const v of d.vets) if (!Array.isArray(v.languagesOf)) v.languagesOf = [];
  return d;
}

// ---------- generators ----------

const NOW = 1_760_000_000_000;
const SPECIES = ["dog", "cat", "rabbit", "bird"];
const LANGUAGES = ["en", "fr", "de", "es"];
const AGING = [0, 1_000, 60_000, 300_000];
const WAIT = [0, 1_000, 60_000];
const LICENSES = ["US", "US-CA", "US-NY", "GB", "CA-ON"];
const REGIONS = ["US-CA", "US-NY", "US", "GB-ENG", "GB", "CA-ON", "CA-QC", "FR"];

/** How long ago a request was created: anywhere, or on the edge of a language window or an aging step. */
const age = fc.oneof(
  fc.integer({ min: -10_000, max: 2_000_000 }),
  fc.integer({ min: 0, max: 120_000 }),
  fc
    .tuple(fc.constantFrom(...AGING, ...WAIT), fc.integer({ min: 0, max: 4 }), fc.constantFrom(-1, 0, 1))
    .map(([step, k, d]) => step * k + d),
);

const skills = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      species: fc.subarray(SPECIES),
      languages: fc.subarray(LANGUAGES),
      maxChats: fc.constantFrom(null, null, 0, 1, 2, 3, 4),
      licenses: fc.subarray(LICENSES),
      version: fc.nat(3),
    }),
  },
  // As stored before a field existed: any of them may be absent.
  {
    weight: 1,
    arbitrary: fc.record(
      {
        species: fc.subarray(SPECIES),
        languages: fc.subarray(LANGUAGES),
        maxChats: fc.integer({ min: 0, max: 4 }),
        licenses: fc.subarray(LICENSES),
        version: fc.nat(3),
      },
      { requiredKeys: [] },
    ),
  },
);

const vet = (vetId: number) =>
  fc.record(
    {
      vetId: fc.constant(vetId),
      status: fc.constantFrom("available", "available", "available", "available", "away"),
      connections: fc.constantFrom(0, 1, 1, 1, 1, 2),
      idleSince: fc.constant(0),
      offerConsultationId: fc.constantFrom(null, null, null, null, null, "held"),
      activeConsultationIds: fc
        .constantFrom(0, 0, 0, 1, 2, 4)
        .map((n) => Array.from({ length: n }, (_, i) => `a${vetId}-${i}`)),
      wrapupUntil: fc.constantFrom(null, null, null, null, null, NOW + 1),
      wrapupConsultationId: fc.constant(null),
      skills,
      holdsVideo: fc.constantFrom(false, false, false, true),
    },
    {
      requiredKeys: [
        "vetId",
        "status",
        "connections",
        "idleSince",
        "offerConsultationId",
        "activeConsultationIds",
        "wrapupUntil",
        "wrapupConsultationId",
      ],
    },
  ) as fc.Arbitrary<VetPresence>;

const request = (vetIds: number[]) =>
  fc.record(
    {
      type: fc.constantFrom("chat", "chat", "video"),
      createdAt: age.map((a) => NOW - a),
      excludedVetIds: fc.subarray(vetIds),
      transferred: fc.boolean(),
      species: fc.constantFrom(null, "", "hamster", ...SPECIES),
      language: fc.constantFrom(null, "", "it", ...LANGUAGES),
      priority: fc.constantFrom("emergency", "protected", "normal"),
      region: fc.constantFrom(null, "", ...REGIONS),
      care: fc.constantFrom("treatment", "treatment", "advice"),
      // A referral's entry (PROTOCOL §10): the vet it names binds, and so does its language.
      referralOf: fc.constantFrom(null, "c-1"),
      requestedVetId: fc.constantFrom(null, ...vetIds),
    },
    { requiredKeys: ["type", "createdAt", "excludedVetIds"] },
  );

const batch: fc.Arbitrary<Batch> = fc
  .record({
    rules: fc.record({
      maxConsults: fc.constantFrom(0, 1, 2, 3, 3, 4, 4),
      languageWaitMs: fc.oneof(fc.constantFrom(...WAIT), fc.integer({ min: 1, max: 120_000 })),
      priorityAgingMs: fc.oneof(fc.constantFrom(...AGING), fc.integer({ min: 1, max: 600_000 })),
      licensing: fc.boolean(),
    }),
    later: fc.array(fc.integer({ min: 1, max: 1_000_000 }), { maxLength: 2 }),
    vetCount: fc.integer({ min: 1, max: 6 }),
  })
  .chain(({ rules, later, vetCount }) => {
    const vetIds = Array.from({ length: vetCount }, (_, i) => i + 1);
    return fc
      .record({
        vets: fc.tuple(...vetIds.map(vet)),
        requests: fc.array(request(vetIds), { minLength: 1, maxLength: 10 }),
        // Distinct seqs in any order: the comparator is a total order, so both sorts agree.
        seqs: fc.uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 10, maxLength: 10 }),
      })
      .map(({ vets, requests, seqs }) => ({
        rules,
        nows: [NOW, ...later.map((d) => NOW + d)],
        vets,
        requests: requests.map((r, i) => ({ ...r, id: `r${i}`, seq: seqs[i] })),
      }));
  });

// ---------- the test ----------

let client: RedisClientType;

beforeAll(async () => {
  client = createClient({ url: REDIS_URL });
  await client.connect();
});

afterAll(async () => {
  await client.quit();
});

/** Loads a rules script; returns a function that runs a batch through it. */
async function luaRules(source: string): Promise<(b: Batch) => Promise<Decisions>> {
  const sha = await client.sendCommand<string>(["SCRIPT", "LOAD", source]);
  return async (b) => fromLua(await client.sendCommand<string>(["EVALSHA", sha, "0", JSON.stringify(b)]));
}

const parity = inlineIncludes("rules-parity.lua", COMMANDS_DIR, PARITY_LUA).source;

describe("rules.lua decides as routing-rules.ts", () => {
  it("every decision agrees: eligibility, capacity, species, licences and care, languages, channel, exclusion, priority with aging, serving order", async () => {
    const decideInLua = await luaRules(parity);
    const seen = {
      inWindow: 0,
      eligible: 0,
      notEligible: 0,
      canTake: 0,
      outOfLanguage: 0,
      ranks: new Set<number>(),
      classes: new Set<string>(),
      reordered: 0,
      licensed: 0,
      unlicensed: 0,
      refusedCare: 0,
    };
    await fc.assert(
      fc.asyncProperty(batch, async (b) => {
        const ts = decideInTypeScript(b);
        expect(await decideInLua(b)).toEqual(ts);
        for (const v of ts.vets) {
          seen[v.isEligible ? "eligible" : "notEligible"]++;
          seen.licensed += v.licensedFor.filter(Boolean).length;
          seen.unlicensed += v.licensedFor.filter((x) => !x).length;
          seen.refusedCare += v.mayGiveCare.filter((x) => !x).length;
        }
        for (const at of ts.at) {
          seen.inWindow += at.inLanguageWindow.filter(Boolean).length;
          seen.canTake += at.canTake.flat().filter(Boolean).length;
          seen.outOfLanguage +=
            at.canTakeIgnoringLanguage.flat().filter(Boolean).length - at.canTake.flat().filter(Boolean).length;
          at.priorityRank.forEach((r) => seen.ranks.add(r));
          if (
            at.servingOrder.join() !==
            [...b.requests]
              .sort((x, y) => x.seq - y.seq)
              .map((c) => c.id)
              .join()
          )
            seen.reordered++;
        }
        ts.urgentClassOf.forEach((c) => seen.classes.add(c));
      }),
      { seed: 22, numRuns: 200 },
    );
    // The batches reach every outcome, so agreement is not agreement on trivial cases.
    expect(seen.eligible).toBeGreaterThan(50);
    expect(seen.notEligible).toBeGreaterThan(50);
    expect(seen.canTake).toBeGreaterThan(100);
    expect(seen.inWindow).toBeGreaterThan(50);
    expect(seen.outOfLanguage).toBeGreaterThan(20);
    expect([...seen.ranks].sort()).toEqual([0, 1, 2, 3]);
    expect([...seen.classes].sort()).toEqual(["", "e", "p", "t"]);
    expect(seen.reordered).toBeGreaterThan(20);
    expect(seen.licensed).toBeGreaterThan(50);
    expect(seen.unlicensed).toBeGreaterThan(50);
    expect(seen.refusedCare).toBeGreaterThan(50);
  });

  it("and would see a difference: a Lua rule off by one fails the comparison", async () => {
    const capacity = "and #v.activeConsultationIds < chatCapacity(v, maxConsults)";
    expect(parity).toContain(capacity);
    const offByOne = await luaRules(
      parity.replace(capacity, "and #v.activeConsultationIds <= chatCapacity(v, maxConsults)"),
    );
    await expect(
      fc.assert(
        fc.asyncProperty(batch, async (b) => expect(await offByOne(b)).toEqual(decideInTypeScript(b))),
        { seed: 22, numRuns: 200 },
      ),
    ).rejects.toThrow(/Property failed/);
  });
});
