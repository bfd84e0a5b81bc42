/** The "Refer" dialog of an active consultation (PROTOCOL §10), loaded on first use. */
import type { VetClient } from "../../src/client/index.js";
import { h } from "../shared/dom.js";

/** What the dialog sends (`consult:transfer` without the consultation id). */
export type ReferralRequest = Parameters<VetClient["transfer"]>[1] extends infer To
  ? { to: To; note: string; mode: "warm" | "cold" }
  : never;

/**
 * The "Refer" dialog: a vet's email (that vet only) or a species and language (any vet with
 * them), a note for the next vet, warm or cold. `send` answers when the gateway accepted the
 * referral; its error is shown in the dialog, which stays open.
 */
export function referralDialog(
  consultationId: string,
  ownerName: string,
  send: (r: ReferralRequest) => Promise<void>,
): HTMLDialogElement {
  const id = (k: string) => `transfer-${k}-${consultationId}`;
  const email = h("input", {
    id: id("email"),
    "data-testid": "transfer-email",
    type: "email",
    autocomplete: "off",
    maxlength: 254,
  });
  const species = h("input", {
    id: id("species"),
    "data-testid": "transfer-species",
    type: "text",
    maxlength: 50,
    placeholder: "e.g. cat",
  });
  const language = h("input", {
    id: id("language"),
    "data-testid": "transfer-language",
    type: "text",
    maxlength: 2,
    placeholder: "e.g. es",
  });
  const note = h("textarea", { id: id("note"), "data-testid": "transfer-note", rows: 3, maxlength: 1000 });
  const warm = h("input", {
    id: id("warm"),
    "data-testid": "transfer-mode-warm",
    type: "radio",
    name: id("mode"),
    value: "warm",
    checked: true,
  });
  const cold = h("input", {
    id: id("cold"),
    "data-testid": "transfer-mode-cold",
    type: "radio",
    name: id("mode"),
    value: "cold",
  });
  const status = h("p", { class: "small", role: "status" });
  const submit = h("button", { class: "primary", type: "submit", "data-testid": "transfer-submit" }, "Send referral");
  const cancel = h("button", { type: "button", "data-testid": "transfer-close" }, "Cancel");
  const title = h("h2", { id: id("title") }, `Refer ${ownerName}'s consultation`);
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    title,
    h("p", { class: "small muted" }, "You keep the consultation until another vet accepts."),
    h("div", { class: "field" }, h("label", { for: email.id }, "Vet's email (leave empty for any vet)"), email),
    h(
      "div",
      { class: "row" },
      h("div", { class: "field" }, h("label", { for: species.id }, "Species"), species),
      h("div", { class: "field" }, h("label", { for: language.id }, "Language (ISO 639-1)"), language),
    ),
    h("div", { class: "field" }, h("label", { for: note.id }, "Note for the next vet"), note),
    h(
      "fieldset",
      { class: "stack" },
      h("legend", {}, "Hand-over"),
      h("label", { for: warm.id, class: "row" }, warm, "Warm: stay in the consultation until you leave"),
      h("label", { for: cold.id, class: "row" }, cold, "Cold: leave as soon as the vet accepts"),
    ),
    status,
    h("div", { class: "row" }, submit, cancel),
  );
  const dialog = h(
    "dialog",
    { class: "panel referral-dialog", "data-testid": "transfer-dialog", "aria-labelledby": title.id },
    form,
  );
  cancel.addEventListener("click", () => dialog.close());
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const to = email.value.trim()
      ? { vet_email: email.value.trim() }
      : // The gateway checks the language code (422 when it is not ISO 639-1).
        ({
          ...(species.value.trim() ? { species: species.value.trim().toLowerCase() } : {}),
          ...(language.value.trim() ? { language: language.value.trim().toLowerCase() } : {}),
        } as ReferralRequest["to"]);
    submit.disabled = true;
    status.textContent = "Sending…";
    status.className = "small muted";
    send({ to, note: note.value.trim(), mode: cold.checked ? "cold" : "warm" }).then(
      () => {
        submit.disabled = false;
        status.textContent = "";
        dialog.close();
      },
      (err: unknown) => {
        submit.disabled = false;
        status.textContent = `Not sent: ${err instanceof Error ? err.message : String(err)}`;
        status.className = "small error-text";
      },
    );
  });
  return dialog;
}
