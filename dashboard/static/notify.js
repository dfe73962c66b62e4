// "Tell me when it's free": a member asks to be told when a zone or room turns free; the browser
// shows a notification (Notification API) as soon as the live stream reports it free.
// The wish lives only in this tab (sessionStorage, at most 24 h): nothing about it reaches the server.
const KEY = "hubsense-watch";
const MAX_AGE_MS = 24 * 3600_000;

function load() {
  try {
    const raw = JSON.parse(sessionStorage.getItem(KEY) || "{}");
    const now = Date.now();
    return new Map(Object.entries(raw).filter(([, until]) => typeof until === "number" && until > now));
  } catch {
    return new Map();
  }
}

export class FreeWatch {
  constructor(translate) {
    this.t = translate;
    this.watched = load(); // "hub/zone" -> expiry (ms since epoch)
  }

  static supported() {
    return "Notification" in window;
  }

  save() {
    try { sessionStorage.setItem(KEY, JSON.stringify(Object.fromEntries(this.watched))); } catch { /* storage off */ }
  }

  isWatched(hub, zone) {
    const until = this.watched.get(`${hub}/${zone}`);
    return until !== undefined && until > Date.now();
  }

  /** Start or stop watching; "watching", "stopped", "denied" or "unsupported". */
  async toggle(hub, zone) {
    const key = `${hub}/${zone}`;
    if (this.watched.has(key)) {
      this.watched.delete(key);
      this.save();
      return "stopped";
    }
    if (!FreeWatch.supported()) return "unsupported";
    let permission = Notification.permission;
    if (permission === "default") permission = await Notification.requestPermission();
    if (permission !== "granted") return "denied";
    this.watched.set(key, Date.now() + MAX_AGE_MS);
    this.save();
    return "watching";
  }

  /** A zone as the board shows it (shown: its free / occupied / unknown state); notifies once if it
   * is watched and free. True when a notification was shown. */
  check(hub, zone, shown) {
    if (shown !== "free" || !this.isWatched(hub.id, zone.id)) return false;
    this.watched.delete(`${hub.id}/${zone.id}`);
    this.save();
    if (!FreeWatch.supported() || Notification.permission !== "granted") return false;
    const note = new Notification(this.t("notify_title", { zone: zone.name }), {
      body: this.t("notify_body", { zone: zone.name, hub: hub.name }),
      tag: `hubsense-${hub.id}-${zone.id}`,
      lang: document.documentElement.lang,
      icon: "/static/favicon.svg",
    });
    note.onclick = () => { window.focus(); document.getElementById(`zone-${zone.id}`)?.scrollIntoView(); note.close(); };
    return true;
  }
}
