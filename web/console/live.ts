/**
 * Live Twilio mode, loaded with `import()` only when `GET /vet/v1/config` says `live`. Chat
 * joins the consultation's Conversation; video joins the call's room. The SDKs come through
 * one seam, twilio-sdk.ts (loaded on first use), so offline consoles never download them and
 * browser tests can put a fake in their place.
 */
import { h } from "../shared/dom.js";
import type { ChatMessage, RemoteParticipant, RemoteTrack, TwilioSdk } from "./twilio-types.js";

export interface LiveSession {
  close(): void;
}

let loading: Promise<TwilioSdk> | null = null;
const twilioSdk = (): Promise<TwilioSdk> => (loading ??= import("./twilio-sdk.js").then((m) => m.default));

/**
 * Joins the Conversation `channelSid` as the token's identity `me` and renders a message
 * list and an input into `into`. `renew` fetches a fresh token (`token:refresh`) when the
 * current one is about to expire, so a long consultation keeps its chat.
 */
export async function joinChat(
  token: string,
  channelSid: string,
  me: string,
  into: HTMLElement,
  renew: () => Promise<string>,
): Promise<LiveSession> {
  const list = h("ol", { class: "messages", "aria-live": "polite", "aria-label": "Messages" });
  const state = h("p", { class: "small muted", role: "status" }, "Joining the chat…");
  const input = h("input", {
    type: "text",
    id: `msg-${channelSid}`,
    placeholder: "Write to the owner",
    autocomplete: "off",
    maxlength: 1600,
    disabled: true,
  });
  const send = h("button", { class: "primary", type: "submit", disabled: true }, "Send");
  const form = h(
    "form",
    { class: "row chat-input" },
    h("label", { for: input.id, class: "sr-only" }, "Message"),
    input,
    send,
  );
  const box = h(
    "section",
    { class: "chat stack", "aria-label": "Chat", "data-channel": channelSid },
    h("h3", {}, "Chat"),
    state,
    list,
    form,
  );
  into.append(box);
  const client = (await twilioSdk()).chatClient(token);
  const refresh = () =>
    void renew()
      .then((t) => client.updateToken(t))
      .catch(() => (state.textContent = "The chat token could not be renewed; reload the page if messages stop."));
  client.on("tokenAboutToExpire", refresh);
  client.on("tokenExpired", refresh);
  try {
    await new Promise<void>((resolve, reject) => {
      client.on("stateChanged", (s) =>
        s === "initialized" ? resolve() : reject(new Error("Twilio Conversations failed to start")),
      );
    });
    const conversation = await client.getConversationBySid(channelSid);
    const show = (m: ChatMessage) => {
      const mine = m.author === me;
      list.append(
        h(
          "li",
          { class: mine ? "mine" : "theirs" },
          h("span", { class: "who small muted" }, mine ? "You" : "Owner"),
          h("span", {}, m.body ?? ""),
        ),
      );
      list.scrollTop = list.scrollHeight;
    };
    for (const m of (await conversation.getMessages(50)).items) show(m);
    conversation.on("messageAdded", show);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      void conversation.sendMessage(text).catch(() => (input.value = text));
    });
    state.textContent = "";
    input.disabled = send.disabled = false;
  } catch (err) {
    state.textContent = "The chat could not be joined.";
    void client.shutdown().catch(() => undefined);
    throw err;
  }
  return { close: () => void client.shutdown().catch(() => undefined) };
}

/** Joins the Video room `roomName` with camera and microphone, showing the owner's and the vet's own video in `into`. */
export async function joinVideo(token: string, roomName: string, into: HTMLElement): Promise<LiveSession> {
  const remote = h("div", { class: "video remote", role: "group", "aria-label": "The owner's video" });
  const local = h("div", { class: "video local", role: "group", "aria-label": "Your camera" });
  const box = h("section", { class: "videos", "aria-label": "Video call", "data-room": roomName }, remote, local);
  // The call goes above the chat: it is what the vet looks at while it lasts.
  into.prepend(box);
  const room = await (await twilioSdk()).connectVideo(token, { name: roomName, audio: true, video: { width: 640 } });
  for (const pub of room.localParticipant.videoTracks.values()) local.append(pub.track.attach());
  const attach = (t: RemoteTrack) => {
    if (t.kind !== "data") remote.append(t.attach());
  };
  const detach = (t: RemoteTrack) => {
    if (t.kind !== "data") for (const el of t.detach()) el.remove();
  };
  const watch = (p: RemoteParticipant) => {
    for (const pub of p.tracks.values()) if (pub.track) attach(pub.track);
    p.on("trackSubscribed", attach);
    p.on("trackUnsubscribed", detach);
  };
  room.participants.forEach(watch);
  room.on("participantConnected", watch);
  return {
    close: () => {
      room.disconnect();
      box.remove();
    },
  };
}
