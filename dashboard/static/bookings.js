// Bookings of bookable rooms: live no-show flags, the rooms now (overruns), booked vs used hours per room.
// Renders into an element with id "bookings" if the page has one (the manager page);
// follows the page's hub selector (#hub) and period (#from / #to), else ?hub= / last 7 days.
import { api } from "./common.js";

const TEXT = {
  sv: {
    live: "Pågående bokningar", report: "Bokat och använt per rum", none: "Inga pågående bokningar.",
    noRooms: "Inga bokningskalendrar är konfigurerade för den här hubben.",
    room: "Rum", time: "Tid", status: "Status", booked: "Bokat (h)", used: "Använt (h)",
    bookedUsed: "Bokat och använt (h)", unbooked: "Använt utan bokning (h)", bookings: "Bokningar",
    noShows: "Uteblivna", release: "Kan släppas",
    used: "används", no_show: "ingen har kommit", unknown: "okänt", pending: "väntar", upcoming: "kommande",
    error: "Kunde inte hämta bokningar",
    rooms: "Rummen just nu", now: "Nu", booking: "Bokning",
    room_free: "ledigt", room_booked: "bokat", room_released: "släppt (ingen kom)",
    room_released_in_use: "släppt, används av andra", room_walk_in: "används utan bokning",
    room_overrun: "drar över med {n} min", room_unknown: "okänt",
  },
  en: {
    live: "Bookings now", report: "Booked and used per room", none: "No bookings right now.",
    noRooms: "No booking calendars are configured for this hub.",
    room: "Room", time: "Time", status: "Status", booked: "Booked (h)", used: "Used (h)",
    bookedUsed: "Booked and used (h)", unbooked: "Used without booking (h)", bookings: "Bookings",
    noShows: "No-shows", release: "Can be released",
    used: "in use", no_show: "no-show", unknown: "unknown", pending: "waiting", upcoming: "upcoming",
    error: "Could not load bookings",
    rooms: "Rooms now", now: "Now", booking: "Booking",
    room_free: "free", room_booked: "booked", room_released: "released (no-show)",
    room_released_in_use: "released, in use by others", room_walk_in: "in use, not booked",
    room_overrun: "running over by {n} min", room_unknown: "unknown",
  },
};

const tr = (key) => (TEXT[document.documentElement.lang] || TEXT.sv)[key] ?? key;
const LIVE_REFRESH_MS = 60_000;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

function table(headers, rows) {
  const head = el("tr", {}, ...headers.map((h) => el("th", { scope: "col" }, h)));
  return el("table", { class: "data" }, el("thead", {}, head), el("tbody", {}, ...rows));
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
}

function hub() {
  return document.getElementById("hub")?.value || new URLSearchParams(location.search).get("hub") || "";
}

/** The page's period (#from / #to dates, end inclusive) or the last 7 days. */
function period() {
  const from = document.getElementById("from")?.value;
  const to = document.getElementById("to")?.value;
  if (from && to) {
    const end = new Date(to + "T00:00:00");
    end.setDate(end.getDate() + 1);
    const pad = (n) => String(n).padStart(2, "0");
    return { start: from, end: `${end.getFullYear()}-${pad(end.getMonth() + 1)}-${pad(end.getDate())}` };
  }
  const end = new Date();
  const start = new Date(end.getTime() - 7 * 86400_000);
  return { start: start.toISOString(), end: end.toISOString() };
}

/** Every bookable room now: booked, released, walk-in, and overruns ("running over by 12 min"). */
export function renderRooms(target, live) {
  const rooms = live.rooms ?? [];
  if (!rooms.length) {
    target.replaceChildren();
    return;
  }
  const rows = rooms.map((r) => {
    const slot = r.live_status === "overrun" ? r.overrun_booking : r.booking;
    const text = tr(`room_${r.live_status}`).replace("{n}", Math.round(r.overrun_minutes ?? 0));
    return el("tr", { "data-zone": r.zone, "data-status": r.live_status, ...(r.live_status === "overrun" ? { class: "overrun" } : {}) },
      el("td", {}, r.room), el("td", {}, text), el("td", {}, slot ? `${clock(slot.start)}–${clock(slot.end)}` : ""));
  });
  target.replaceChildren(el("h2", {}, tr("rooms")), table([tr("room"), tr("now"), tr("booking")], rows));
}

export function renderLive(target, live) {
  const rows = live.bookings.map((b) => {
    const row = el("tr", b.no_show ? { class: "no-show" } : {},
      el("td", {}, b.room), el("td", {}, `${clock(b.start)}–${clock(b.end)}`),
      el("td", {}, tr(b.status) + (b.no_show ? ` · ${tr("release")}` : "")));
    return row;
  });
  target.replaceChildren(el("h2", {}, tr("live")),
    rows.length ? table([tr("room"), tr("time"), tr("status")], rows) : el("p", {}, tr("none")));
}

export function renderReport(target, report) {
  if (!report.rooms.length) {
    target.replaceChildren(el("h2", {}, tr("report")), el("p", {}, tr("noRooms")));
    return;
  }
  const fmt = (h) => h.toLocaleString(document.documentElement.lang, { maximumFractionDigits: 1 });
  const rows = report.rooms.map((r) => el("tr", {},
    el("td", {}, r.room), el("td", {}, fmt(r.booked_hours)), el("td", {}, fmt(r.used_hours)),
    el("td", {}, fmt(r.booked_used_hours)), el("td", {}, fmt(r.unbooked_used_hours)),
    el("td", {}, r.bookings), el("td", {}, r.no_shows)));
  target.replaceChildren(el("h2", {}, tr("report")), table(
    [tr("room"), tr("booked"), tr("used"), tr("bookedUsed"), tr("unbooked"), tr("bookings"), tr("noShows")],
    rows));
}

async function refresh(root, parts) {
  const id = hub();
  if (!id) return;
  root.hidden = false;
  try {
    const [live, report] = await Promise.all([
      api(`/api/hubs/${encodeURIComponent(id)}/bookings/live`),
      api(`/api/hubs/${encodeURIComponent(id)}/bookings`, period()),
    ]);
    renderLive(parts.live, live);
    renderRooms(parts.rooms, live);
    renderReport(parts.report, report);
    root.removeAttribute("aria-busy");
  } catch (err) {
    parts.report.replaceChildren();
    parts.rooms.replaceChildren();
    if (err.status === 401 || err.status === 403) {
      // the page says once what is missing (a manager token); no second, raw message here
      parts.live.replaceChildren();
      root.hidden = true;
      return;
    }
    parts.live.replaceChildren(el("p", { class: "error", role: "alert" }, `${tr("error")} (${err.status ?? "–"})`));
  }
}

function start() {
  const root = document.getElementById("bookings");
  if (!root) return;
  const parts = { live: el("div", { class: "bookings-live", "aria-live": "polite" }),
    rooms: el("div", { class: "bookings-rooms" }), report: el("div") };
  root.setAttribute("aria-busy", "true");
  root.append(parts.live, parts.rooms, parts.report);
  const again = () => refresh(root, parts);
  document.getElementById("hub")?.addEventListener("change", again);
  document.getElementById("filters")?.addEventListener("submit", () => setTimeout(again, 0));
  document.addEventListener("hubsense:reload", again); // e.g. a manager token was saved
  setInterval(again, LIVE_REFRESH_MS);
  // the hub list is filled asynchronously by the page's own script: wait for a hub to be chosen
  const wait = setInterval(() => { if (hub()) { clearInterval(wait); again(); } }, 100);
}

start();
