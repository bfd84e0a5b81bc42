/**
 * The README and docs/ stay walkable (issue 22): every relative link `[text](target)` and image
 * in README.md and in each markdown file under docs/ points at a file that exists, and every
 * `#anchor` at a heading of the target page, as GitHub slugs it. The README stays short and
 * opens with its two commands.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Every `.md` under `dir` (relative to the repository root), sorted. */
function markdownFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".md"))
    .map((f) => path.join(dir, f))
    .sort();
}

const pages = ["README.md", ...markdownFiles("docs")];

/**
 * The markdown a reader sees as prose: fenced code blocks and inline code spans blanked out
 * (a `# comment` in a shell block is no heading, `[a](b)` in code no link). Newlines are kept,
 * so line numbers still match the file.
 */
function prose(markdown: string): string {
  let fenced = false;
  const lines = markdown.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line;
  });
  return lines.join("\n").replace(/(`+)[\s\S]*?\1/g, (code) => code.replace(/[^\n]/g, " "));
}

/**
 * GitHub's anchor for a heading: lower case; characters other than letters (any script),
 * digits, spaces, hyphens and underscores dropped; each space a hyphen.
 */
function githubSlug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** The heading text as rendered: a link shows its text, markup characters go with the slug. */
function headingText(raw: string): string {
  return raw
    .replace(/\s+#+\s*$/, "")
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim();
}

/** Every anchor of a page, duplicates numbered as GitHub does (`a`, `a-1`, `a-2`). */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  // The headings are read from the unblanked text (a code span's text is part of the anchor),
  // but only on lines that are not inside a fenced block.
  const visible = prose(markdown).split("\n");
  markdown.split("\n").forEach((line, i) => {
    const m = /^ {0,3}(#{1,6})\s+(.*)$/.exec(line);
    if (!m || visible[i]?.trim() === "") return;
    const base = githubSlug(headingText(m[2]));
    let slug = base;
    for (let n = 1; anchors.has(slug); n++) slug = `${base}-${n}`;
    anchors.add(slug);
  });
  return anchors;
}

interface Link {
  line: number;
  target: string;
}

/** Every inline link and image of a page, with the line it starts on. */
function linksOf(markdown: string): Link[] {
  const text = prose(markdown);
  const links: Link[] = [];
  for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({ line: text.slice(0, m.index).split("\n").length, target: m[1] });
  }
  return links;
}

const external = /^[a-z][a-z0-9+.-]*:/i; // http:, https:, mailto:, …

/** What is wrong with each relative link of `page` (a path from the repository root). */
function brokenLinks(page: string): string[] {
  const problems: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    let set = anchorCache.get(file);
    if (!set) anchorCache.set(file, (set = anchorsOf(readFileSync(file, "utf8"))));
    return set;
  };
  const from = path.join(root, page);
  for (const { line, target } of linksOf(readFileSync(from, "utf8"))) {
    if (external.test(target)) continue;
    const hash = target.indexOf("#");
    const filePart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
    const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const file = filePart === "" ? from : path.resolve(path.dirname(from), filePart);
    const where = `${page}:${line} (${target})`;
    if (!existsSync(file)) {
      problems.push(`${where}: no file ${path.relative(root, file)}`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!file.endsWith(".md")) problems.push(`${where}: an anchor into a file that is not markdown`);
    else if (!anchors(file).has(anchor))
      problems.push(`${where}: no heading #${anchor} in ${path.relative(root, file)}`);
  }
  return problems;
}

describe("README and docs/", () => {
  it("README.md is at most 250 lines and opens with the two commands", () => {
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    const lines = readme.split("\n");
    if (readme.endsWith("\n")) lines.pop();
    expect(lines.length).toBeLessThanOrEqual(250);
    const top = lines.slice(0, 40).join("\n");
    expect(top).toContain("npm ci && npm start");
    expect(top).toContain("npm ci && npm test");
  });

  it("the README links to every page of docs/", () => {
    const targets = linksOf(readFileSync(path.join(root, "README.md"), "utf8")).map((l) => l.target.split("#")[0]);
    for (const page of pages.filter((p) => p !== "README.md"))
      expect(targets).toContain(page.split(path.sep).join("/"));
  });

  it.each(pages)("%s: every relative link and anchor resolves", (page) => {
    expect(brokenLinks(page)).toEqual([]);
  });

  it("slugs headings as GitHub does", () => {
    expect(githubSlug("Routing for a clinic's operator")).toBe("routing-for-a-clinics-operator");
    expect(githubSlug("Gaps a fault can open, and how each closes")).toBe("gaps-a-fault-can-open-and-how-each-closes");
    expect(githubSlug("What made matching and `pet/list` fast")).toBe("what-made-matching-and-petlist-fast");
    expect(githubSlug("Where each PROTOCOL rule lives: §4")).toBe("where-each-protocol-rule-lives-4");
    expect(githubSlug("snake_case and dash-case")).toBe("snake_case-and-dash-case");
    expect(githubSlug("Überblick – Änderungen")).toBe("überblick--änderungen");
    expect(githubSlug(headingText("[Limits](operations.md#limits) ##"))).toBe("limits");
    expect([...anchorsOf("# Notes\n\n## Notes\n\n```sh\n# Notes\n```\n\n### Notes\n")]).toEqual([
      "notes",
      "notes-1",
      "notes-2",
    ]);
  });

  it("finds links and skips what is not one", () => {
    const md =
      "See [a](a.md#x) and ![b](img/b.png).\n\n```sh\n[c](c.md)\n```\n\n`[d](d.md)` and [e](https://e.example)\n";
    expect(linksOf(md)).toEqual([
      { line: 1, target: "a.md#x" },
      { line: 1, target: "img/b.png" },
      { line: 7, target: "https://e.example" },
    ]);
  });
});
