/**
 * Offer alerts: a short two-tone beep made with WebAudio (no sound file) and, while the tab
 * is hidden, a browser notification. Both can be muted; the choice is kept in localStorage.
 */
const SOUND_KEY = "vet-console.sound";
const NOTIFY_KEY = "vet-console.notify";

export class Alerts {
  private audio: AudioContext | null = null;
  sound = localStorage.getItem(SOUND_KEY) !== "off";
  notify =
    localStorage.getItem(NOTIFY_KEY) === "on" && "Notification" in window && Notification.permission === "granted";

  /** Browsers allow audio only after a user gesture: call this from one (e.g. the login click). */
  unlock(): void {
    if (!this.sound) return;
    try {
      this.audio ??= new AudioContext();
      if (this.audio.state === "suspended") void this.audio.resume().catch(() => undefined);
    } catch {
      this.audio = null;
    }
  }

  setSound(on: boolean): void {
    this.sound = on;
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
    if (on) this.unlock();
  }

  /** Turns notifications on (asking for permission) or off; resolves to the resulting state. */
  async setNotify(on: boolean): Promise<boolean> {
    if (on && "Notification" in window) {
      const p =
        Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
      on = p === "granted";
    } else on = false;
    this.notify = on;
    localStorage.setItem(NOTIFY_KEY, on ? "on" : "off");
    return on;
  }

  /** Beeps (unless muted) and notifies when the tab is hidden (unless off). */
  ring(title: string, body: string): void {
    if (this.sound) this.beep();
    if (this.notify && document.hidden && "Notification" in window && Notification.permission === "granted") {
      const n = new Notification(title, { body, tag: "vet-offer" });
      n.onclick = () => {
        window.focus();
        n.close();
      };
    }
  }

  private beep(): void {
    const ctx = this.audio;
    if (!ctx || ctx.state !== "running") return;
    const t = ctx.currentTime;
    for (const [i, freq] of [660, 880].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      const start = t + i * 0.18;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.17);
    }
  }
}
