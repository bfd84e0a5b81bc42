/**
 * The Lua command files themselves: each is complete, documented, valid Lua 5.1, loads
 * into real Redis, builds the same key names as `redis/keys.ts`, and a script error names
 * the `.lua` file and line it came from.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type RedisClientType } from "redis";
import { parse } from "luaparse";
import { routingKeys } from "../../src/routing-store/redis/keys.js";
import { COMMANDS_DIR, COMMAND_NAMES, LuaCommands, inlineIncludes, readCommand, readCommands } from "../../src/routing-store/redis/scripts.js";
import { REDIS_URL, cleanRedisPrefix, uniqueRedisPrefix } from "../support/services.js";

const prefix = uniqueRedisPrefix("luacmd");
const read = (file: string) => readFileSync(new URL(file, COMMANDS_DIR), "utf8");
const files = readdirSync(COMMANDS_DIR).filter((f) => f.endsWith(".lua"));
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
    expect(read(file)).toMatch(/^--- @include "includes\/lib"$/m);
  });

  it("the shared include has a header too", () => {
    expect(header(read("includes/lib.lua"))).toMatch(/ARGV\[1\] is always the key prefix/);
  });

  it.each([...files, "includes/lib.lua"])("%s parses as Lua 5.1 on its own", (file) => {
    expect(() => parse(read(file), { luaVersion: "5.1" })).not.toThrow();
  });

  it.each(COMMAND_NAMES)("%s parses with its include inlined and SCRIPT LOAD accepts it", async (name) => {
    const s = readCommand(name);
    expect(() => parse(s.source, { luaVersion: "5.1" })).not.toThrow();
    expect(s.source).not.toMatch(/^--- @include/m);
    expect(await client.sendCommand(["SCRIPT", "LOAD", s.source])).toBe(s.sha);
  });

  it("K in includes/lib.lua names the same keys as redis/keys.ts", async () => {
    const probe = `${read("includes/lib.lua")}
return cjson.encode({
  K.consultation('c1'), K.consultationProfile('c1'), K.vet(7), K.vets, K.vetSeq,
  K.vetConnections(7), K.userConnections(3, 4), K.userOpen(3, 4),
  K.nodeVetConnections('n1'), K.nodeUserConnections('n1'), K.queue, K.appQueued, K.queueClass('n'), K.waiting, K.waitingSpecies('dog'), K.urgent('e'), K.urgentSpecies('p', 'cat'), K.seq,
  K.deadlines, K.nodes, K.nodeHeartbeat('n1'), K.epoch, K.rebuildLock,
})`;
    const k = routingKeys(prefix);
    const fromLua = JSON.parse(await client.sendCommand<string>(["EVAL", probe, "0", prefix]));
    expect(fromLua).toEqual([
      k.consultation("c1"), k.consultationProfile("c1"), k.vet(7), k.vets, k.vetSeq,
      k.vetConnections(7), k.userConnections(3, 4), k.userOpen(3, 4),
      k.nodeVetConnections("n1"), k.nodeUserConnections("n1"), k.queue, k.appQueued, k.queueClass("n"), k.waiting, k.waitingSpecies("dog"), k.urgent("e"), k.urgentSpecies("p", "cat"), k.seq,
      k.deadlines, k.nodes, k.nodeHeartbeat("n1"), k.epoch, k.rebuildLock,
    ]);
    // And the names are today's, unchanged.
    expect(fromLua.map((s: string) => s.slice(prefix.length))).toEqual([
      "c:c1", "cp:c1", "v:7", "vets", "vseq", "vc:7", "uc:3:4", "uo:3:4",
      "n:n1:vc", "n:n1:uc", "q", "aq", "qc:n", "w", "ws:dog", "wu:e", "wu:p:cat", "seq", "dl", "nodes", "node:n1", "epoch", "rebuild",
    ]);
  });
});

describe("Lua errors name the file and line", () => {
  let dir: string;

  beforeAll(() => {
    // A copy of the commands with one broken: line 5 of heartbeat.lua reads an unknown global.
    dir = mkdtempSync(join(tmpdir(), "luacmd-"));
    mkdirSync(join(dir, "includes"));
    for (const f of [...files, "includes/lib.lua"]) copyFileSync(new URL(f, COMMANDS_DIR), join(dir, f));
    writeFileSync(join(dir, "heartbeat.lua"), '--[[\nbroken\n]]\n--- @include "includes/lib"\nreturn noSuchGlobal.x\n');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("maps a line of the sent source back to the include or the command file", () => {
    const s = readCommand("heartbeat", pathToFileURL(`${dir}/`));
    const libLines = read("includes/lib.lua").replace(/\n$/, "").split("\n").length;
    expect(s.where(2)).toBe("heartbeat.lua:2");
    expect(s.where(4)).toBe("includes/lib.lua:1");
    expect(s.where(3 + libLines)).toBe(`includes/lib.lua:${libLines}`);
    expect(s.where(4 + libLines)).toBe("heartbeat.lua:5");
  });

  it("a Redis script error carries (commands/<file>:<line>)", async () => {
    const lua = new LuaCommands(client, prefix, readCommands(pathToFileURL(`${dir}/`)));
    await expect(lua.call("heartbeat", [])).rejects.toThrow(/noSuchGlobal[\s\S]*\(commands\/heartbeat\.lua:5\)$/);
  });
});

describe("nested includes", () => {
  let dir: URL;

  beforeAll(() => {
    // cmd includes a and b; a includes b and c (beside it); b includes c. Each goes in once.
    const root = mkdtempSync(join(tmpdir(), "luainc-"));
    mkdirSync(join(root, "includes"));
    writeFileSync(join(root, "cmd.lua"), 'local x = 1\n--- @include "includes/a"\n--- @include "includes/b"\nreturn x\n');
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
      "cmd.lua:1", "includes/c.lua:1", "includes/c.lua:2", "includes/b.lua:2", "includes/a.lua:3", "cmd.lua:4",
    ]);
  });

  it("refuses an include cycle", () => {
    expect(() => inlineIncludes("x.lua", dir, '--- @include "includes/loop1"\n')).toThrow(/include cycle/);
  });
});
