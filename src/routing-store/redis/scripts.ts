import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { posix } from "node:path";

/** Every command in `commands/`, one `.lua` file each (a test checks the list is complete). */
export const COMMAND_NAMES = [
  "heartbeat",
  "reapDeadNodes",
  "removeNode",
  "addVetConnection",
  "removeVetConnection",
  "setVetStatus",
  "endWrapup",
  "addUserConnection",
  "removeUserConnection",
  "findOpenByUser",
  "enqueue",
  "assignDirect",
  "claimOffer",
  "acceptOffer",
  "revertAccept",
  "restore",
  "releaseOffer",
  "updateSids",
  "finish",
  "transfer",
  "claimDue",
  "snapshot",
  "headSnapshot",
  "restoreWrapup",
  "claimRebuild",
  "setLiveEpoch",
  "setVetSkills",
  "setCare",
  "requestReferral",
  "endReferral",
  "leaveConsultation",
  "revertReferral",
] as const;

export type CommandName = (typeof COMMAND_NAMES)[number];

/** Beside this module in `src/` (tsx) and in `dist/` (the build copies the `.lua` files). */
export const COMMANDS_DIR = new URL("./commands/", import.meta.url);

/** A command ready to send: its source with includes inlined, and that source's SHA1. */
export interface LuaScript {
  name: CommandName;
  source: string;
  sha: string;
  /** Maps a line of `source` back to `file:line`, for Redis error messages. */
  where(line: number): string;
}

const INCLUDE = /^--- @include "([\w/-]+)"\s*$/;

interface Segment {
  /** First line of `source` (1-based) taken from `file`, starting at its line `fileLine`. */
  from: number;
  file: string;
  fileLine: number;
}

/** Lua source with its includes inlined, and where each of its lines came from. */
export interface InlinedLua {
  source: string;
  /** Maps a line of `source` back to `file:line` (`file` relative to the commands dir). */
  where(line: number): string;
}

/**
 * Inlines each `--- @include "x"` line of `file` (a path under `dir`) with `x.lua`, found
 * beside the file that names it (BullMQ's convention), so includes may include others.
 * Each file goes in once per script, at its first include: an include names what it uses
 * before its own code, so every local is defined before a later line reads it. `text`
 * stands in for the file's contents (a test's script that is not on disk).
 */
export function inlineIncludes(file: string, dir: URL = COMMANDS_DIR, text?: string): InlinedLua {
  const out: string[] = [];
  const segments: Segment[] = [];
  const included = new Set<string>([file]);
  const open: string[] = [];
  const inline = (name: string, content: string) => {
    open.push(name);
    segments.push({ from: out.length + 1, file: name, fileLine: 1 });
    content.split("\n").forEach((line, i) => {
      const m = INCLUDE.exec(line);
      if (!m) return void out.push(line);
      const inc = posix.join(posix.dirname(name), `${m[1]}.lua`);
      if (open.includes(inc)) throw new Error(`${name}: include cycle through ${inc}`);
      if (!included.has(inc)) {
        included.add(inc);
        inline(inc, readFileSync(new URL(inc, dir), "utf8").replace(/\n$/, ""));
      }
      segments.push({ from: out.length + 1, file: name, fileLine: i + 2 });
    });
    open.pop();
  };
  inline(file, text ?? readFileSync(new URL(file, dir), "utf8"));
  return {
    source: out.join("\n"),
    where(line) {
      const s = segments.findLast((seg) => seg.from <= line) ?? segments[0];
      return `${s.file}:${s.fileLine + line - s.from}`;
    },
  };
}

/** Reads one command with its includes inlined, so Redis gets one self-contained source. */
export function readCommand(name: CommandName, dir: URL = COMMANDS_DIR): LuaScript {
  const lua = inlineIncludes(`${name}.lua`, dir);
  return {
    name,
    source: lua.source,
    sha: createHash("sha1").update(lua.source).digest("hex"),
    where: (line) => lua.where(line),
  };
}

/** Reads every command; call once at start-up (a missing file fails here, not mid-request). */
export function readCommands(dir: URL = COMMANDS_DIR): Readonly<Record<CommandName, LuaScript>> {
  return Object.freeze(
    Object.fromEntries(COMMAND_NAMES.map((n) => [n, readCommand(n, dir)])) as Record<CommandName, LuaScript>,
  );
}

/**
 * The part of a node-redis v6 client this store uses. A `RedisClientType` (RESP2 or RESP3)
 * or a client pool satisfies it; the caller connects it and closes it.
 */
export interface RedisCommandClient {
  sendCommand(args: ReadonlyArray<string>): Promise<unknown>;
}

/**
 * Runs the commands by SHA (EVALSHA, numkeys 0, ARGV[1] = key prefix). When Redis does not
 * have a script cached (restart, SCRIPT FLUSH) it answers NOSCRIPT and the script goes once
 * with EVAL, which caches it again. A Lua error names the `.lua` file and line.
 */
export class LuaCommands {
  constructor(
    private readonly client: RedisCommandClient,
    private readonly prefix: string,
    private readonly scripts: Readonly<Record<CommandName, LuaScript>>,
  ) {}

  /** SCRIPT LOAD of every command ahead of time (optional: calls fall back to EVAL). */
  async loadAll(): Promise<void> {
    await Promise.all(Object.values(this.scripts).map((s) => this.client.sendCommand(["SCRIPT", "LOAD", s.source])));
  }

  /** Runs a command; the reply is Redis' (a bulk string, or an array for `snapshot`). */
  async call(name: CommandName, args: ReadonlyArray<string | number>): Promise<unknown> {
    const script = this.scripts[name];
    const tail = ["0", this.prefix, ...args.map(String)];
    try {
      try {
        return await this.client.sendCommand(["EVALSHA", script.sha, ...tail]);
      } catch (err) {
        if (!isNoScript(err)) throw err;
        return await this.client.sendCommand(["EVAL", script.source, ...tail]);
      }
    } catch (err) {
      throw located(err, script);
    }
  }
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("NOSCRIPT");
}

/** Adds `(commands/x.lua:12)` to a script error that names a line of the sent source. */
function located(err: unknown, script: LuaScript): unknown {
  if (!(err instanceof Error)) return err;
  const m = /user_script:(\d+)/.exec(err.message);
  if (m) err.message = `${err.message} (commands/${script.where(Number(m[1]))})`;
  return err;
}
