/**
 * The chat panel of offline Twilio mode (PROTOCOL §10), shared by the vet console and the demo
 * owner page: the gateway carries the chat (`chat:send`, `chat:message`, `messages` on resume).
 * Messages are kept in the order of their ids (the order they were stored), once each: the
 * ack of one's own message and its `chat:message` are the same message. Enter sends,
 * Shift+Enter starts a new line. New messages are announced politely; while the tab is
 * hidden the document title counts the unread ones ("(2) …").
 */
import type { ChatMessage } from "../../src/client/index.js";
import { h } from "./dom.js";
import "./chat.css";

/** The longest message the gateway takes (after trimming). */
const MAX_TEXT = 4000;

export interface ChatPanelOptions {
  /** A unique part for element ids (the consultation id). */
  id: string;
  /**
   * Whether a message is this page's own ("You", on the right). The owner's are those of
   * `author: "owner"`; a vet's, those of `author: "vet"` with the vet's own name (another vet
   * who held the consultation before is shown by name).
   */
  mine(m: ChatMessage): boolean;
  /** Whom the messages go to, for labels: "the owner", "the vet". */
  other: string;
  /** Sends one message; resolves to the stored message (the ack). */
  send(text: string): Promise<ChatMessage>;
}

export interface ChatPanel {
  readonly el: HTMLElement;
  /** How many messages it shows. */
  readonly size: number;
  /** Adds messages not shown yet (an ack, a `chat:message`, a replay), in id order; scrolls to the newest. */
  add(messages: readonly ChatMessage[]): void;
  /** Nothing can be sent now (the consultation ended, or waits for a vet): the conversation stays readable, `text` says why. */
  close(text: string): void;
  /** Messages can be sent (again). */
  open(): void;
  /** Shows the newest message (after the panel was moved in the page, which resets its scrolling). */
  scrollToEnd(): void;
}

const byId = (a: ChatMessage, b: ChatMessage) => {
  const x = BigInt(a.id);
  const y = BigInt(b.id);
  return x < y ? -1 : x > y ? 1 : 0;
};

const timeOf = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

export function chatPanel(opts: ChatPanelOptions): ChatPanel {
  const shown = new Map<string, HTMLElement>();
  /** Ids of the messages sent from this panel (their acks): its own whatever the names say. */
  const sent = new Set<string>();
  const ordered: ChatMessage[] = [];
  // A scrollable log around the list: focusable so keyboard users can scroll it; announced politely.
  const list = h("ol", { class: "message-list" });
  const log = h(
    "div",
    { class: "messages", role: "log", "aria-live": "polite", "aria-label": `Messages with ${opts.other}`, tabindex: 0 },
    list,
  );
  const empty = h("p", { class: "chat-empty small muted" }, `No messages yet. Write to ${opts.other} below.`);
  const input = h("textarea", {
    id: `chat-${opts.id}`,
    "data-testid": "chat-input",
    rows: 2,
    maxlength: MAX_TEXT,
    placeholder: `Write to ${opts.other}…`,
    "aria-describedby": `chat-help-${opts.id}`,
  });
  const send = h("button", { class: "primary", type: "submit", "data-testid": "chat-send" }, "Send");
  const status = h("p", { class: "small", role: "status" });
  const help = h("p", { id: `chat-help-${opts.id}`, class: "small muted" }, "Enter sends · Shift+Enter for a new line");
  const form = h(
    "form",
    { class: "chat-form" },
    h("label", { for: input.id, class: "sr-only" }, `Message to ${opts.other}`),
    h("div", { class: "chat-compose" }, input, send),
    h("div", { class: "row spread" }, help, status),
  );
  const closed = h("p", { class: "small muted", hidden: true });
  const el = h(
    "section",
    { class: "chat stack", "aria-label": `Chat with ${opts.other}` },
    h("h3", {}, "Chat"),
    empty,
    log,
    form,
    closed,
  );

  let sending = false;
  const submit = () => {
    const text = input.value.trim();
    if (!text || sending) return;
    sending = true;
    send.disabled = true;
    status.textContent = "";
    opts
      .send(text)
      .then(
        (m) => {
          input.value = "";
          sent.add(m.id);
          panel.add([m]);
        },
        (err: unknown) => {
          status.textContent = `Not sent: ${err instanceof Error ? err.message : String(err)}`;
          status.className = "small error-text";
        },
      )
      .finally(() => {
        sending = false;
        send.disabled = input.disabled;
        input.focus();
      });
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });

  const panel: ChatPanel = {
    el,
    get size() {
      return ordered.length;
    },
    add(messages) {
      let incoming = 0;
      for (const m of messages) {
        if (shown.has(m.id)) continue;
        const mine = sent.has(m.id) || opts.mine(m);
        if (!mine) incoming++;
        const item = h(
          "li",
          { class: mine ? "mine" : "theirs", "data-testid": "chat-message", "data-message-id": m.id },
          h(
            "span",
            { class: "who small" },
            mine ? "You" : m.author_name || (m.author === "vet" ? "Vet" : "Owner"),
            h("time", { datetime: m.created_at, class: "muted" }, ` · ${timeOf(m.created_at)}`),
          ),
          h("span", { class: "text" }, m.text),
        );
        // In id order: a replay may bring older messages than ones already shown.
        const at = ordered.findIndex((o) => byId(m, o) < 0);
        if (at === -1) {
          ordered.push(m);
          list.append(item);
        } else {
          list.insertBefore(item, shown.get(ordered[at].id) ?? null);
          ordered.splice(at, 0, m);
        }
        shown.set(m.id, item);
      }
      empty.hidden = ordered.length > 0;
      log.scrollTop = log.scrollHeight;
      if (incoming > 0) unread.note(incoming);
    },
    close(text) {
      input.disabled = send.disabled = true;
      form.hidden = true;
      closed.textContent = text;
      closed.hidden = false;
    },
    open() {
      input.disabled = false;
      send.disabled = sending;
      form.hidden = false;
      closed.hidden = true;
    },
    scrollToEnd() {
      log.scrollTop = log.scrollHeight;
    },
  };
  return panel;
}

/** Counts messages that arrive while the tab is hidden in the title; cleared when it is shown again. */
const unread = (() => {
  let count = 0;
  let base = "";
  const clear = () => {
    if (count === 0) return;
    count = 0;
    document.title = base;
  };
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) clear();
  });
  return {
    note(n: number) {
      if (!document.hidden) return;
      if (count === 0) base = document.title;
      count += n;
      document.title = `(${count}) ${base}`;
    },
  };
})();
