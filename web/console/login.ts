/** The sign-in view: email and password to `POST /vet/v1/login`; the password is cleared once used. */
import { reason } from "../shared/api.js";
import { byId } from "../shared/dom.js";
import type { Alerts } from "./alerts.js";
import { login, type Session } from "./session.js";

/** Shows the sign-in form (with `message` above the button when given) and focuses the email field. */
export function showLogin(message?: string): void {
  byId("app-view").hidden = true;
  byId("login-view").hidden = false;
  const err = byId("login-error");
  err.hidden = !message;
  err.textContent = message ?? "";
  byId<HTMLInputElement>("login-email").focus();
}

/** Handles the form; `signedIn` receives the new session. */
export function wireLogin(alerts: Alerts, signedIn: (s: Session) => void): void {
  byId<HTMLFormElement>("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    // The click is the user gesture browsers want before a page may play sound.
    alerts.unlock();
    const email = byId<HTMLInputElement>("login-email").value.trim();
    const password = byId<HTMLInputElement>("login-password").value;
    if (!email || !password) return showLogin("Enter your email and password.");
    const submit = byId<HTMLButtonElement>("login-submit");
    submit.disabled = true;
    login(email, password)
      .then(
        (s) => {
          byId<HTMLInputElement>("login-password").value = "";
          signedIn(s);
        },
        (err: unknown) =>
          showLogin(reason(err) === "Unauthenticated." ? "Email or password is not right." : reason(err)),
      )
      .finally(() => (submit.disabled = false));
  });
}
