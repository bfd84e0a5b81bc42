/**
 * The Lua command files themselves: each is complete, documented, valid Lua 5.1, loads
 * into real Redis, names the includes it uses, builds the same key names as
 * `redis/keys.ts`, and a script error names the `.lua` file and line it came from.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type RedisClientType } from "redis";
import { parse, type Node } from "luaparse";
import * as routingRules from "../../../src/domain/routing-rules.js";
import { routingKeys } from "../../../src/routing-store/redis/keys.js";
import {
  COMMANDS_DIR,
  COMMAND_NAMES,
  LuaCommands,
  inlineIncludes,
  readCommand,
  readCommands,
} from "../../../src/routing-store/redis/scripts.js";
import { REDIS_URL, cleanRedisPrefix, uniqueRedisPrefix } from "../../support/services.js";

const prefix = uniqueRedisPrefix("luacmd");
const read = (file: string) => readFileSync(new URL(file, COMMANDS_DIR), "utf8");
const files = readdirSync(COMMANDS_DIR).filter((f) => f.endsWith(".lua"));
const includes = readdirSync(new URL("includes/", COMMANDS_DIR))
  .filter((f) => f.endsWith(".lua"))
  .map((f) => `includes/${f}`);
let client: RedisClientType;

beforeAll(async () => {
  client = createClient({ url: REDIS_URL });
  await client.connect();
});

afterAll(async () => {
  await client.quit();
  await cleanRedisPrefix(prefix);
});

/** The text of the leading `--[[ … ]]` block, or null. */
function header(src: string): string | null {
  const m = /^--\[\[\n([\s\S]*?)\n\]\]\n/.exec(src);
  return m ? m[1] : null;
}

/** The includes a file names itself, as paths under the commands dir. */
function includesOf(file: string): string[] {
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
  return [...read(file).matchAll(/^--- @include "([\w/-]+)"$/gm)].map((m) => `${dir}${m[1]}.lua`);
}

/** Globals of Redis' Lua 5.1 that a script may read. */
const LUA_GLOBALS = new Set([
  "redis",
  "cjson",
  "cmsgpack",
  "bit",
  "struct",
  "ARGV",
  "KEYS",
  "math",
  "string",
  "table",
  "os",
  "assert",
  "error",
  "ipairs",
  "pairs",
  "next",
  "pcall",
  "xpcall",
  "select",
  "tonumber",
  "tostring",
  "type",
  "unpack",
  "rawget",
  "rawset",
  "rawequal",
  "setmetatable",
  "getmetatable",
]);

/** Names a file reads without declaring them, and the locals it declares at its top level. */
function namesOf(file: string): { used: Set<string>; declared: Set<string> } {
  const chunk = parse(read(file), { luaVersion: "5.1", scope: true });
  const used = new Set<string>();
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== "object") return;
    const node = n as Node & { isLocal?: boolean; name?: string };
    // Only name references carry isLocal (not `.field` or `{field = …}`).
    if (node.type === "Identifier" && node.isLocal === false && !LUA_GLOBALS.has(node.name)) used.add(node.name);
    Object.values(node).forEach(walk);
  };
  walk(chunk.body);
  const declared = new Set<string>();
  for (const st of chunk.body) {
    if (st.type === "LocalStatement") st.variables.forEach((v) => declared.add(v.name));
    if (st.type === "FunctionDeclaration" && st.isLocal && st.identifier?.type === "Identifier")
      declared.add(st.identifier.name);
  }
  return { used, declared };
}

describe("Lua command files", () => {
  it("one file per command, and no file that is not a command", () => {
    expect(files.map((f) => f.slice(0, -4)).sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it.each(files)("%s opens with a header naming its ARGV, KEYS and reply", (file) => {
    const h = header(read(file));
    expect(h, "leading --[[ ]] block").not.toBeNull();
    expect(h).toMatch(/^ARGV {2}1 prefix\b/m);
    expect(h).toMatch(/^KEYS {2}\S/m);
    expect(h).toMatch(/^Reply \S/m);
  });

  it.each([...files, ...includes])("%s parses as Lua 5.1 on its own", (file) => {
    expect(() => parse(read(file), { luaVersion: "5.1" })).not.toThrow();
  });

  it.each(COMMAND_NAMES)("%s parses with its includes inlined and SCRIPT LOAD accepts it", async (name) => {
    const s = readCommand(name);
    expect(() => parse(s.source, { luaVersion: "5.1" })).not.toThrow();
    expect(s.source).not.toMatch(/^--- @include/m);
    expect(await client.sendCommand(["SCRIPT", "LOAD", s.source])).toBe(s.sha);
  });
});

describe("Lua includes", () => {
  it("includes/lib.lua is gone: the helpers are split by concern", () => {
    expect(existsSync(new URL("includes/lib.lua", COMMANDS_DIR))).toBe(false);
    expect(includes.length).toBeGreaterThan(5);
  });

  it.each(includes)("%s has a header and no more than 150 lines", (file) => {
    expect(header(read(file)), "leading --[[ ]] block").not.toBeNull();
    expect(read(file).replace(/\n$/, "").split("\n").length).toBeLessThanOrEqual(150);
  });

  it("keys.lua says where the prefix comes from", () => {
    expect(header(read("includes/keys.lua"))).toMatch(/ARGV\[1\] is always the key prefix/);
  });

  it("every include exists and is used by some command", () => {
    const reached = new Set<string>();
    const visit = (file: string): void => {
      for (const inc of includesOf(file)) {
        expect(includes, `${file} includes ${inc}`).toContain(inc);
        if (!reached.has(inc)) {
          reached.add(inc);
          visit(inc);
        }
      }
    };
    files.forEach(visit);
    expect([...reached].sort()).toEqual([...includes].sort());
  });

  it.each([...files, ...includes])(
    "%s names, as a direct include, the file of every name it uses, and no other",
    (file) => {
      const { used } = namesOf(file);
      const owner = new Map<string, string>();
      for (const inc of includes) for (const name of namesOf(inc).declared) owner.set(name, inc);
      const needed = new Set<string>();
      for (const name of used) {
        expect(owner.has(name), `${file}: ${name} is defined by no include`).toBe(true);
        needed.add(owner.get(name)!);
      }
      expect(includesOf(file).sort()).toEqual([...needed].sort());
    },
  );

  it("no two includes declare the same name", () => {
    const all = includes.flatMap((inc) => [...namesOf(inc).declared]);
    expect(all.length).toBe(new Set(all).size);
  });

  it("rules.lua names its rules as src/domain/routing-rules.ts exports them", () => {
    const { declared } = namesOf("includes/rules.lua");
    const exported = Object.keys(routingRules).filter(
      (k) => k !== "routingRules" && k !== "priorityClassOf" && !k.startsWith("DEFAULT_"),
    );
    for (const name of exported) expect(declared, name).toContain(name);
  });

  it("QUEUE_HEAD_LIMIT is the same number in rules.lua", async () => {
    const probe = inlineIncludes("probe.lua", COMMANDS_DIR, '--- @include "includes/rules"\nreturn QUEUE_HEAD_LIMIT\n');
    expect(await client.sendCommand(["EVAL", probe.source, "0"])).toBe(routingRules.QUEUE_HEAD_LIMIT);
  });

  it("Keys in includes/keys.lua names the same keys as redis/keys.ts", async () => {
    const probe = `${read("includes/keys.lua")}
return cjson.encode({
  Keys.consultation('c1'), Keys.consultationProfile('c1'), Keys.vet(7), Keys.vets, Keys.vetSeq,
  Keys.vetConnections(7), Keys.userConnections(3, 4), Keys.userOpen(3, 4),
  Keys.nodeVetConnections('n1'), Keys.nodeUserConnections('n1'), Keys.queue, Keys.appQueued, Keys.queueClass('n'), Keys.waiting,
  Keys.waitingSpecies('dog'), Keys.urgent('e'), Keys.urgentSpecies('p', 'cat'), Keys.seq,
  Keys.deadlines, Keys.nodes, Keys.nodeHeartbeat('n1'), Keys.epoch, Keys.rebuildLock,
})`;
    const k = routingKeys(prefix);
    const fromLua = JSON.parse(await client.sendCommand<string>(["EVAL", probe, "0", prefix]));
    expect(fromLua).toEqual([
      k.consultation("c1"),
      k.consultationProfile("c1"),
      k.vet(7),
      k.vets,
      k.vetSeq,
      k.vetConnections(7),
      k.userConnections(3, 4),
      k.userOpen(3, 4),
      k.nodeVetConnections("n1"),
      k.nodeUserConnections("n1"),
      k.queue,
      k.appQueued,
      k.queueClass("n"),
      k.waiting,
      k.waitingSpecies("dog"),
      k.urgent("e"),
      k.urgentSpecies("p", "cat"),
      k.seq,
      k.deadlines,
      k.nodes,
      k.nodeHeartbeat("n1"),
      k.epoch,
      k.rebuildLock,
    ]);
    // And the stored names are today's, unchanged.
    expect(fromLua.map((s: string) => s.slice(prefix.length))).toEqual([
      "c:c1",
      "cp:c1",
      "v:7",
      "vets",
      "vseq",
      "vc:7",
      "uc:3:4",
      "uo:3:4",
      "n:n1:vc",
      "n:n1:uc",
      "q",
      "aq",
      "qc:n",
      "w",
      "ws:dog",
      "wu:e",
      "wu:p:cat",
      "seq",
      "dl",
      "nodes",
      "node:n1",
      "epoch",
      "rebuild",
    ]);
  });

  it("every key of redis/keys.ts is in the key table of its TSDoc and in keys.lua", () => {
    const doc = readFileSync(new URL("../../../src/routing-store/redis/keys.ts", import.meta.url), "utf8");
    const lua = read("includes/keys.lua");
    for (const name of Object.keys(routingKeys(prefix))) {
      expect(doc, name).toMatch(new RegExp(`^ \\* \\| \`${name}[(\`]`, "m"));
      expect(lua, name).toMatch(new RegExp(`^(  ${name} = |function Keys\\.${name}\\()`, "m"));
    }
  });
});

describe("Lua errors name the file and line", () => {
  let dir: string;

  beforeAll(() => {
    // A copy of the commands with two broken: line 5 of heartbeat.lua reads an unknown
    // global, and so does the last line of includes/mget.lua, which findOpenByUser includes
    // through includes/consultations.lua.
    dir = mkdtempSync(join(tmpdir(), "luacmd-"));
    mkdirSync(join(dir, "includes"));
    for (const f of [...files, ...includes]) copyFileSync(new URL(f, COMMANDS_DIR), join(dir, f));
    writeFileSync(
      join(dir, "heartbeat.lua"),
      '--[[\nbroken\n]]\n--- @include "includes/keys"\nreturn noSuchGlobal.x\n',
    );
    writeFileSync(join(dir, "includes/mget.lua"), `${read("includes/mget.lua")}local broken = noSuchGlobal.y\n`);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("maps a line of the sent source back to the include or the command file", () => {
    const s = readCommand("heartbeat", pathToFileURL(`${dir}/`));
    const keysLines = read("includes/keys.lua").replace(/\n$/, "").split("\n").length;
    expect(s.where(2)).toBe("heartbeat.lua:2");
    expect(s.where(4)).toBe("includes/keys.lua:1");
    expect(s.where(3 + keysLines)).toBe(`includes/keys.lua:${keysLines}`);
    expect(s.where(4 + keysLines)).toBe("heartbeat.lua:5");
  });

  it("a Redis script error carries (commands/<file>:<line>)", async () => {
    const lua = new LuaCommands(client, prefix, readCommands(pathToFileURL(`${dir}/`)));
    await expect(lua.call("heartbeat", [])).rejects.toThrow(/noSuchGlobal[\s\S]*\(commands\/heartbeat\.lua:5\)$/);
  });

  it("and names a nested include's line", async () => {
    const lua = new LuaCommands(client, prefix, readCommands(pathToFileURL(`${dir}/`)));
    const line = read("includes/mget.lua").replace(/\n$/, "").split("\n").length + 1;
    await expect(lua.call("findOpenByUser", [1, 2])).rejects.toThrow(
      new RegExp(`noSuchGlobal[\\s\\S]*\\(commands/includes/mget\\.lua:${line}\\)$`),
    );
  });
});

describe("nested includes", () => {
  let dir: URL;

  beforeAll(() => {
    // cmd includes a and b; a includes b and c (beside it); b includes c. Each goes in once.
    const root = mkdtempSync(join(tmpdir(), "luainc-"));
    mkdirSync(join(root, "includes"));
    writeFileSync(
      join(root, "cmd.lua"),
      'local x = 1\n--- @include "includes/a"\n--- @include "includes/b"\nreturn x\n',
    );
    writeFileSync(join(root, "includes/a.lua"), '--- @include "b"\n--- @include "c"\nlocal a = 1\n');
    writeFileSync(join(root, "includes/b.lua"), '--- @include "c"\nlocal b = 1\n');
    writeFileSync(join(root, "includes/c.lua"), "local c = 1\nlocal c2 = 2\n");
    writeFileSync(join(root, "includes/loop1.lua"), '--- @include "loop2"\n');
    writeFileSync(join(root, "includes/loop2.lua"), '--- @include "loop1"\n');
    dir = pathToFileURL(`${root}/`);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("inlines includes of includes, each file once, in dependency order", () => {
    const s = inlineIncludes("cmd.lua", dir);
    expect(s.source).toBe("local x = 1\nlocal c = 1\nlocal c2 = 2\nlocal b = 1\nlocal a = 1\nreturn x\n");
    expect([1, 2, 3, 4, 5, 6].map((n) => s.where(n))).toEqual([
      "cmd.lua:1",
      "includes/c.lua:1",
      "includes/c.lua:2",
      "includes/b.lua:2",
      "includes/a.lua:3",
      "cmd.lua:4",
    ]);
  });

  it("refuses an include cycle", () => {
    expect(() => inlineIncludes("x.lua", dir, '--- @include "includes/loop1"\n')).toThrow(/include cycle/);
  });
});
