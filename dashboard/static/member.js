// Member view (/) and kiosk (/kiosk, /?kiosk=1): every zone of a hub, live.
import {
  LiveFeed, api, ago, clockTime, dayTime, el, noteServerTime, params, serverNow, sinceTime, setupHubPicker,
  setupLangSwitch, stateIcon, t, translateStatic, updateNavLinks,
} from "./common.js";
import { forecastStrip, loadForecast } from "./forecast.js";
import { FreeWatch } from "./notify.js";

const KIOSK = location.pathname.replace(/\/$/, "") === "/kiosk" || params.get("kiosk") === "1";
const KIOSK_REFRESH_MS = 60_000;
// p_occupied moves without a state change (the stream pushes only changes): a fresh snapshot this
// often keeps "probably free" / "probably occupied" true (the server builds it once a second at most)
const MEMBER_REFRESH_MS = 30_000;
const KIOSK_RELOAD_MS = 6 * 3600_000; // pick up a new dashboard version without anyone touching the screen
const FORECAST_REFRESH_MS = 15 * 60_000;
const HUB_REFRESH_MS = 60_000; // opening hours: the page turns to "closed" (and back) by itself
const OFFLINE_AFTER_MS = 10_000; // without the live feed this long, say so plainly

const SURE = 0.9; // p_occupied this far from 0.5 (≥ 0.9 / ≤ 0.1) is said plainly, else "probably"

const $ = (id) => document.getElementById(id);
const ROOMS_REFRESH_MS = 60_000; // a release happens because time passes: re-read the rooms now and then
const view = {
  hub: null, zones: new Map(), order: [], feed: null, forecast: null, touched: new Map(),
  showClosed: false, lostAt: null, lastLive: null, offlineTimer: null,
  rooms: new Map(), // bookable rooms with a calendar: zone id -> RoomOut (times only, never titles)
};

function group(zone) {
  if (zone.kind === "desk_area") return "desks";
  return zone.bookable ? "rooms" : "path";
}

/** Is the engine sure of the zone's state (p_occupied ≥ 0.9 for occupied, ≤ 0.1 for free)? null when
 * unknown: unknown stays unknown (p_occupied is null then, never a guess). */
function sureness(zone) {
  const p = zone.p_occupied;
  if (zone.state === "unknown" || p === null || p === undefined) return null;
  return zone.state === "occupied" ? p >= SURE : p <= 1 - SURE;
}

/** "Occupied" / "Free" when sure, "Probably occupied" / "Probably free" when not. */
function stateText(zone) {
  return sureness(zone) === false ? t(`${zone.state}_probably`) : t(zone.state);
}

function reasonText(zone) {
  if (zone.state !== "unknown") return "";
  const key = `reason_${zone.reason}`;
  const text = t(key);
  return text === key ? "" : text;
}

function deskGrid(zone) {
  const list = el("ul", { class: "desk-grid" });
  for (const desk of zone.desks) {
    const number = desk.name.match(/\d+$/)?.[0] ?? desk.name;
    const label = t(`desk_${desk.state}`, { name: desk.name });
    list.append(el("li", { class: "desk", "data-desk": desk.id, "data-state": desk.state, title: label },
      stateIcon(desk.state, "icon desk-icon"), el("span", { class: "desk-no", "aria-hidden": "true", text: number }),
      el("span", { class: "sr-only", text: label })));
  }
  return list;
}

const isDeskArea = (zone) => zone.desks.length > 0 && zone.free_desks !== null && zone.free_desks !== undefined;

/** Desks by state; a desk whose sensor is silent is unknown, never "taken". */
function deskCounts(zone) {
  const unknown = zone.state === "unknown" ? zone.desks.length : zone.desks.filter((d) => d.state === "unknown").length;
  const free = zone.state === "unknown" ? 0 : zone.free_desks;
  return { free, unknown, occupied: zone.desks.length - free - unknown, total: zone.desks.length };
}

function deskText(zone) {
  const c = deskCounts(zone);
  if (c.unknown === c.total) return t("desks_all_unknown", { total: c.total });
  if (c.unknown) return t("desks_mixed", c);
  return t("desks_free", c);
}

/** What the card shows: a desk area with a free desk is free; with none free, unknown if any desk is unknown. */
function shownState(zone) {
  if (!isDeskArea(zone) || zone.state === "unknown") return zone.state;
  const c = deskCounts(zone);
  if (c.free > 0) return "free";
  return c.unknown ? "unknown" : "occupied";
}

function bookingText(zone) {
  const units = zone.booked_per ?? [];
  if (!units.length) return t("bookable");
  return t("booked_per", { units: units.map((u) => t(`unit_${u}`)).join(t("or")) });
}

/** "14:00" today, "i morgon 09:00" / "tisdag 09:00" on another day (hub time). */
function untilText(iso, timeZone) {
  const day = (d) => new Intl.DateTimeFormat("en-CA", { timeZone, dateStyle: "short" }).format(d);
  return day(new Date(iso)) === day(new Date(serverNow())) ? clockTime(new Date(iso), timeZone) : dayTime(iso, timeZone);
}

function slotText(slot, timeZone) {
  return `${untilText(slot.start, timeZone)}–${clockTime(new Date(slot.end), timeZone)}`;
}

/** The room's booking lines: "Bokat 13:00–14:00", "Ledigt till 14:00", "Bokat men oanvänt – ledigt att använda
 * till 14:00", "Används utan bokning", then the next booking.  Times only: never a title or an organiser. */
function roomLines(room, timeZone) {
  const lines = [];
  const until = room.free_until ? untilText(room.free_until, timeZone) : null;
  if (room.status === "booked" && room.booking) lines.push(["booked", t("room_booked", { t: slotText(room.booking, timeZone) })]);
  else if (room.status === "released") lines.push(["released", until ? t("room_released_until", { t: until }) : t("room_released")]);
  else if (room.status === "released_in_use") lines.push(["released_in_use", t("room_released_in_use")]);
  else if (room.status === "walk_in") lines.push(["walk_in", t("room_walk_in")]);
  else if (room.status === "free" && until) lines.push(["free", t("room_free_until", { t: until })]);
  if (room.next && room.status !== "booked") lines.push(["next", t("room_next", { t: slotText(room.next, timeZone) })]);
  if (!lines.length) return null;
  return el("div", { class: "room-booking", "data-status": room.status },
    ...lines.map(([kind, text]) => el("p", { class: `rb rb-${kind}`, text })));
}

function cardBody(zone, index) {
  const hub = view.hub;
  const head = el("div", { class: "card-head" },
    group(zone) === "path" ? el("span", { class: "step", "aria-hidden": "true", text: String(index + 1) }) : null,
    el("h3", { text: zone.name }),
    el("span", { class: "meta", text: zone.bookable ? `${t("seats", { n: zone.capacity })} · ${bookingText(zone)}`
      : t("seats", { n: zone.capacity }) }));
  const parts = [head];
  const shown = shownState(zone);
  if (isDeskArea(zone)) {
    // A desk area is "occupied" as soon as one desk is; what members need is the free count.
    parts.push(el("p", { class: "state desks-free" }, stateIcon(shown), el("span", { class: "state-text", text: deskText(zone) })));
  } else {
    const p = zone.state === "unknown" ? null : zone.p_occupied;
    const title = p === null || p === undefined ? null : t("p_title", { p: Math.round(p * 100) });
    parts.push(el("p", { class: "state", title }, stateIcon(zone.state), el("span", { class: "state-text", text: stateText(zone) })));
  }
  const room = zone.bookable ? view.rooms.get(zone.id) : null;
  const lines = room ? roomLines(room, hub.timezone) : null;
  if (lines) parts.push(lines);
  const times = el("p", { class: "times" });
  if (zone.since) times.append(el("span", { class: "since", text: t("since", { t: sinceTime(zone.since, hub.timezone) }) }));
  times.append(el("span", { class: "confirmed",
    text: zone.last_confirmed ? t("confirmed", { ago: ago(zone.last_confirmed) }) : t("never_confirmed") }));
  parts.push(times);
  const notes = [reasonText(zone), ...zone.stuck_sensors.map((s) => t("stuck", { s }))].filter(Boolean);
  if (notes.length) parts.push(el("p", { class: "note", text: notes.join(" · ") }));
  if (zone.desks.length) parts.push(deskGrid(zone));
  const strip = forecastStrip(view.forecast, zone, hub, KIOSK ? 4 : 6);
  if (strip) parts.push(strip);
  const bell = watchButton(zone, shown);
  if (bell) parts.push(bell);
  return parts;
}

// ---- "tell me when it's free" ---------------------------------------------------------
const watch = new FreeWatch(t);

/** The bell on a card that is not free (members only: a kiosk has nobody to tell). */
function watchButton(zone, shown) {
  if (KIOSK || !FreeWatch.supported()) return null;
  const on = watch.isWatched(view.hub.id, zone.id);
  if (shown === "free" && !on) return null;
  return el("button", {
    type: "button", class: "watch", "aria-pressed": String(on), "data-watch": zone.id,
    "aria-label": t("watch_label", { zone: zone.name }), text: on ? t("watch_on") : t("watch"),
    onclick: async () => {
      const result = await watch.toggle(view.hub.id, zone.id);
      $("announcer").textContent = t(`watch_${result}`, { zone: zone.name });
      renderZone(view.zones.get(zone.id) ?? zone);
    },
  });
}

function renderZone(zone) {
  let card = $(`zone-${zone.id}`);
  if (!card) return;
  const before = card.dataset.state;
  card.dataset.state = zone.state;
  card.dataset.show = shownState(zone);
  const sure = sureness(zone);
  if (sure === null || isDeskArea(zone)) delete card.dataset.sure;
  else card.dataset.sure = String(sure);
  const room = view.rooms.get(zone.id);
  if (room) card.dataset.room = room.status;
  else delete card.dataset.room;
  card.replaceChildren(...cardBody(zone, view.order.indexOf(zone.id)));
  if (before && before !== zone.state && !KIOSK) {
    $("announcer").textContent = t("announce", { zone: zone.name, state: t(zone.state).toLowerCase() });
  }
}

function renderSummary() {
  const zones = [...view.zones.values()].filter((z) => z.kind !== "desk_area");
  const free = zones.filter((z) => z.state === "free").length;
  const unknown = zones.filter((z) => z.state === "unknown").length;
  const parts = [t("zones_free", { free, total: zones.length })];
  if (unknown) parts.push(t("zones_unknown", { n: unknown }));
  for (const z of view.zones.values()) if (isDeskArea(z)) parts.push(deskText(z));
  $("summary").textContent = parts.join(" · ");
}

// The forest path as a simple map: one node per zone along a winding trail.
function renderMap() {
  const zones = view.order.map((id) => view.zones.get(id)).filter((z) => z && group(z) === "path");
  const svg = $("map");
  const w = 1000;
  const h = 150;
  const step = w / Math.max(zones.length, 1);
  const points = zones.map((_, i) => [step * (i + 0.5), i % 2 ? 48 : 78]);
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  let d = points.length ? `M0 70 L${points[0][0]} ${points[0][1]}` : "";
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    d += ` C${x0 + step / 2} ${y0} ${x1 - step / 2} ${y1} ${x1} ${y1}`;
  }
  const nodes = zones.map((zone, i) => {
    const [x, y] = points[i];
    return el("g", { class: `node state-${zone.state}`, transform: `translate(${x} ${y})` },
      el("circle", { r: 27, class: "node-bg" }),
      el("use", { href: `#i-${zone.state}`, x: -17, y: -17, width: 34, height: 34, class: `icon-${zone.state}` }),
      el("text", { y: 52, "text-anchor": "middle", class: "node-label", text: zone.name }));
  });
  svg.replaceChildren(el("path", { d, class: "trail" }), ...nodes);
}

function update(zone, fromSnapshot = false) {
  if (zone.hub !== view.hub?.id) return;
  if (!fromSnapshot) view.touched.set(zone.id, performance.now());
  noteServerTime(zone.last_confirmed, zone.last_confirmed_age_s);
  view.zones.set(zone.id, zone);
  watch.check(view.hub, zone, shownState(zone));
  renderZone(zone);
  renderSummary();
  renderMap();
}

function buildCards(zones) {
  for (const id of ["path", "rooms", "desks"]) $(id).replaceChildren();
  view.order = zones.map((z) => z.id);
  for (const zone of zones) {
    const card = el("li", { class: "card", id: `zone-${zone.id}`, "data-zone": zone.id, "data-kind": zone.kind });
    $(group(zone)).append(card);
  }
  for (const id of ["path", "rooms", "desks"]) $(id).closest("section").hidden = !$(id).children.length;
}

async function snapshot() {
  const hub = view.hub;
  const started = performance.now();
  try {
    const zones = await api(`/api/hubs/${hub.id}/zones`);
    if (view.hub !== hub) return;
    if (view.order.join() !== zones.map((z) => z.id).join()) buildCards(zones);
    for (const zone of zones) {
      // An SSE update that arrived after this request started is newer than the snapshot.
      if ((view.touched.get(zone.id) ?? -1) > started) continue;
      update(zone, true);
    }
    $("error").hidden = true;
  } catch (err) {
    showError(err);
  }
}

async function loadRooms() {
  const hub = view.hub;
  try {
    const body = await api(`/api/hubs/${hub.id}/rooms`);
    if (view.hub !== hub) return;
    view.rooms = new Map(body.rooms.map((r) => [r.zone, r]));
  } catch {
    if (view.hub === hub) view.rooms = new Map(); // no calendar to read: the cards show the state only
  }
  for (const zone of view.zones.values()) if (zone.bookable) renderZone(zone);
}

function updateRoom(room) {
  if (room.hub !== view.hub?.id) return;
  const before = view.rooms.get(room.zone);
  view.rooms.set(room.zone, room);
  const zone = view.zones.get(room.zone);
  if (!zone) return;
  renderZone(zone);
  if (room.status === "released" && before?.status !== "released" && !KIOSK) {
    $("announcer").textContent = t("room_announce_released", { zone: zone.name });
  }
}

async function refreshForecast() {
  const hub = view.hub;
  view.forecast = await loadForecast(hub.id);
  $("fc-legend").hidden = !view.forecast || KIOSK;
  if (view.hub === hub) for (const zone of view.zones.values()) renderZone(zone);
}

function showError(err) {
  if (!err.status) return; // the server cannot be reached: the offline banner says so (setStatus)
  $("error").textContent = err.status === 401 || err.status === 403 ? t("needs_token") : t("error_load", { e: err.message });
  $("error").hidden = false;
}

// ---- connection ----------------------------------------------------------------
function setStatus(state) {
  const status = $("status");
  status.dataset.state = state;
  status.querySelector(".status-text").textContent = t(state === "live" ? "live" : "reconnecting");
  if (state === "live") {
    view.lostAt = null;
    view.lastLive = Date.now();
    clearTimeout(view.offlineTimer);
  } else if (view.lostAt === null) {
    view.lostAt = Date.now();
    view.offlineTimer = setTimeout(renderOffline, OFFLINE_AFTER_MS);
  }
  renderOffline();
}

function renderOffline() {
  const offline = view.lostAt !== null && Date.now() - view.lostAt >= OFFLINE_AFTER_MS - 50;
  document.body.classList.toggle("offline", offline);
  $("offline").hidden = !offline;
  if (offline) {
    const since = view.lastLive ? t("offline_since", { t: clockTime(new Date(view.lastLive), view.hub?.timezone) }) : "";
    $("offline").textContent = [t("offline_banner"), since].filter(Boolean).join(" ");
  }
}

// ---- hub: opening hours and demo marker -----------------------------------------------
function renderHubState() {
  const hub = view.hub;
  if (!hub) return;
  const closed = hub.open_now === false;
  document.body.classList.toggle("closed", closed && !view.showClosed);
  $("closed").hidden = !closed;
  if (closed) {
    $("closed-title").textContent = t("closed_title", { hub: hub.name });
    $("closed-opens").textContent = hub.opens_at ? t("opens_at", { t: dayTime(hub.opens_at, hub.timezone) }) : "";
    $("closed-show").textContent = view.showClosed ? t("closed_hide") : t("closed_show");
    $("closed-show").setAttribute("aria-pressed", String(view.showClosed));
  }
  $("demo").hidden = !hub.simulated;
}

async function refreshHub() {
  try {
    const hubs = await api("/api/hubs");
    const fresh = hubs.find((h) => h.id === view.hub?.id);
    if (fresh) Object.assign(view.hub, fresh);
  } catch { /* the connection status says it */ }
  renderHubState();
}

function selectHub(hub) {
  if (view.feed) view.feed.stop();
  view.hub = hub;
  view.zones.clear();
  view.touched.clear();
  view.order = [];
  view.forecast = null;
  view.showClosed = false;
  $("hub-name").textContent = hub.name;
  document.title = `${hub.name} · hubsense`;
  updateNavLinks();
  renderHubState();
  view.feed = new LiveFeed(hub.id, {
    onZone: (zone) => update(zone),
    onRoom: updateRoom,
    onResync: () => snapshot().then(loadRooms),
    onStatus: setStatus,
    refreshMs: KIOSK ? KIOSK_REFRESH_MS : MEMBER_REFRESH_MS,
  }).start();
  view.rooms = new Map();
  snapshot().then(loadRooms).then(refreshForecast);
}

function rerenderAll() {
  for (const zone of view.zones.values()) renderZone(zone);
  renderSummary();
  renderMap();
  renderHubState();
  setStatus($("status").dataset.state || "reconnecting");
}

function tickClock() {
  if (view.hub) $("clock").textContent = clockTime(new Date(), view.hub.timezone);
}

async function main() {
  if (KIOSK) {
    document.body.classList.replace("member", "kiosk");
    document.querySelector("[data-i18n=title_member]").dataset.i18n = "title_kiosk";
    document.querySelector('nav a[href="/"]').removeAttribute("aria-current");
    document.querySelector('nav a[href="/kiosk"]').setAttribute("aria-current", "page");
  }
  translateStatic();
  setupLangSwitch($("lang"), () => { rerenderAll(); updateNavLinks(); });
  $("closed-show").addEventListener("click", () => { view.showClosed = !view.showClosed; renderHubState(); });
  setStatus("reconnecting");
  try {
    const { hub } = await setupHubPicker($("hub"), selectHub);
    if (hub) selectHub(hub);
  } catch (err) {
    showError(err);
    if (KIOSK) setTimeout(() => location.reload(), KIOSK_REFRESH_MS);
    return;
  }
  // Relative times ("2 min ago") age on screen; forecasts move with the clock.
  setInterval(() => { for (const zone of view.zones.values()) renderZone(zone); }, 15_000);
  setInterval(() => view.hub && refreshForecast(), FORECAST_REFRESH_MS);
  setInterval(() => view.hub && loadRooms(), ROOMS_REFRESH_MS);
  setInterval(() => view.hub && refreshHub(), HUB_REFRESH_MS);
  if (KIOSK) setTimeout(() => location.reload(), KIOSK_RELOAD_MS);
  tickClock();
  setInterval(tickClock, 1000);
}

main();
