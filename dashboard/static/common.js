// Shared by the three views: language, token, API calls, time formatting, the live feed.
import { DICTS, LANGS } from "./i18n.js";

export const params = new URLSearchParams(location.search);
const LANG_KEY = "hubsense-lang";
const TOKEN_KEY = "hubsense-token";
const HUB_KEY = "hubsense-hub";

// ---- language ---------------------------------------------------------------
function pickLang() {
  const asked = params.get("lang") || localStorage.getItem(LANG_KEY);
  return LANGS.includes(asked) ? asked : "sv";
}

export let lang = pickLang();

export function t(key, vars = {}) {
  const text = DICTS[lang][key] ?? DICTS.sv[key] ?? key;
  if (typeof text !== "string") return text;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

export function setLang(next) {
  lang = next;
  localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = next;
  setParam("lang", next === "sv" ? null : next);
}

/** Fill every element with a data-i18n attribute (text) or data-i18n-label (aria-label). */
export function translateStatic(root = document) {
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-label]").forEach((el) => el.setAttribute("aria-label", t(el.dataset.i18nLabel)));
  document.documentElement.lang = lang;
}

// ---- URL state --------------------------------------------------------------
export function setParam(name, value) {
  if (value === null || value === undefined || value === "") params.delete(name);
  else params.set(name, value);
  const query = params.toString();
  history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash);
}

// ---- token + API --------------------------------------------------------------
export function token() {
  return params.get("token") || sessionStorage.getItem(TOKEN_KEY) || "";
}

export function saveToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An API URL with the query parameters and, if there is one, ?token=. */
export function apiUrl(path, query = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== "") url.searchParams.set(k, v);
  if (token()) url.searchParams.set("token", token());
  return url.pathname + url.search;
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}${detail ? ": " + detail : ""}`);
    this.status = status;
    this.detail = detail;
  }
}

export async function api(path, query = {}) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = "Bearer " + token();
  const response = await fetch(apiUrl(path, query), { headers, cache: "no-store" });
  if (!response.ok) {
    let detail = "";
    try { detail = (await response.json()).detail; } catch { /* not JSON */ }
    throw new ApiError(response.status, typeof detail === "string" ? detail : "");
  }
  return response.json();
}

/** Download an API URL (a CSV export) with the token as a Bearer header, which a plain link cannot send. */
export async function download(href, filename) {
  const headers = token() ? { Authorization: "Bearer " + token() } : {};
  const response = await fetch(href, { headers });
  if (!response.ok) throw new ApiError(response.status, "");
  const url = URL.createObjectURL(await response.blob());
  const tmp = el("a", { href: url, download: filename });
  document.body.append(tmp);
  tmp.click();
  tmp.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A JSON request that changes something (POST, PATCH, DELETE), with the token as a header only. */
export async function apiSend(method, path, body) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = "Bearer " + token();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(new URL(path, location.origin), {
    method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let detail = "";
    try { detail = (await response.json()).detail; } catch { /* not JSON */ }
    throw new ApiError(response.status, typeof detail === "string" ? detail : "");
  }
  return response.status === 204 ? null : response.json();
}

// ---- time -------------------------------------------------------------------
// The server's clock, estimated from the ages it reports, so relative times do
// not depend on the browser's clock being right.
let serverOffsetMs = 0;

export function noteServerTime(isoTime, ageSeconds) {
  if (!isoTime || ageSeconds === null || ageSeconds === undefined) return;
  serverOffsetMs = Date.parse(isoTime) + ageSeconds * 1000 - Date.now();
}

export function serverNow() {
  return Date.now() + serverOffsetMs;
}

const locale = () => (lang === "sv" ? "sv-SE" : "en-GB");

export function clockTime(date, timeZone, withSeconds = false) {
  return new Intl.DateTimeFormat(locale(), {
    hour: "2-digit", minute: "2-digit", second: withSeconds ? "2-digit" : undefined, timeZone, hourCycle: "h23",
  }).format(date);
}

/** "09:12" today, "tis 09:12" on another day (in the hub's time zone). */
export function sinceTime(iso, timeZone) {
  const date = new Date(iso);
  const day = (d) => new Intl.DateTimeFormat("en-CA", { timeZone, dateStyle: "short" }).format(d);
  const time = clockTime(date, timeZone);
  if (day(date) === day(new Date(serverNow()))) return time;
  const weekday = new Intl.DateTimeFormat(locale(), { weekday: "short", timeZone }).format(date);
  return `${weekday.replace(".", "")} ${time}`;
}

/** "07:00" today, "i morgon 07:00" tomorrow, "tisdag 07:00" later (in the hub's time zone). */
export function dayTime(iso, timeZone) {
  const date = new Date(iso);
  const day = (d) => new Intl.DateTimeFormat("en-CA", { timeZone, dateStyle: "short" }).format(d);
  const time = clockTime(date, timeZone);
  const now = new Date(serverNow());
  if (day(date) === day(now)) return t("day_today", { t: time });
  if (day(date) === day(new Date(now.getTime() + 86400_000))) return t("day_tomorrow", { t: time });
  const weekday = new Intl.DateTimeFormat(locale(), { weekday: "long", timeZone }).format(date);
  return t("day_other", { d: weekday, t: time });
}

export function ago(iso) {
  const s = Math.max(0, (serverNow() - Date.parse(iso)) / 1000);
  if (s < 10) return t("ago_now");
  if (s < 60) return t("ago_s", { n: Math.round(s) });
  if (s < 3600) return t("ago_min", { n: Math.floor(s / 60) });
  if (s < 86400) return t("ago_h", { n: Math.floor(s / 3600) });
  return t("ago_d", { n: Math.floor(s / 86400) });
}

/** Weekday index (0 = Monday) and hour of a date in a time zone. */
export function weekHour(date, timeZone) {
  const parts = new Intl.DateTimeFormat("en-GB", { weekday: "short", hour: "2-digit", hourCycle: "h23", timeZone })
    .formatToParts(date);
  const weekday = parts.find((p) => p.type === "weekday").value;
  const hour = Number(parts.find((p) => p.type === "hour").value);
  return { day: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(weekday), hour };
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return t("no_data");
  if (seconds < 3600) return t("minutes", { n: Math.round(seconds / 60) });
  return t("hours", { n: (seconds / 3600).toFixed(1).replace(".", lang === "sv" ? "," : ".") });
}

export function percent(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return t("no_data");
  return `${Math.round(value * 100)} %`;
}

// ---- DOM helpers --------------------------------------------------------------
export function el(tag, attrs = {}, ...children) {
  const node = document.createElementNS(
    ["svg", "rect", "text", "g", "use", "path", "circle", "title", "line", "defs", "pattern"].includes(tag)
      ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "style") node.style.cssText = v; // CSSOM: allowed by the CSP, unlike a style attribute
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** The state icon: a shape that differs per state (check circle, filled person, dashed question). */
export function stateIcon(state, cls = "icon") {
  const svg = el("svg", { class: `${cls} icon-${state}`, viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false" });
  svg.append(el("use", { href: `#i-${state}` }));
  return svg;
}

function rememberHub(id) {
  try { localStorage.setItem(HUB_KEY, id); } catch { /* storage off: the URL still carries it */ }
}

/** The hub to show: ?hub= in the URL, else this device's last choice, else the installation's default. */
export function chooseHub(hubs) {
  const byId = (id) => hubs.find((h) => h.id === id);
  return byId(params.get("hub")) || byId(localStorage.getItem(HUB_KEY)) || hubs.find((h) => h.default) || hubs[0];
}

/** Text for searching: lower case, without diacritics ("orebro" finds "Örebro"). */
export const fold = (s) => (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();

const PLAIN_PICKER_MAX = 5; // up to this many hubs: a plain <select>; more: a search box with a grouped list

/** The hub picker shared by the views.  Lists the hubs /api/hubs returns (only those the token may
 * see), keeps ?hub= in the URL and remembers the choice on this device (a kiosk set up with ?hub=
 * keeps showing that hub).  Two to five hubs: a plain <select>.  More: a combobox that searches by
 * name, city, region and id, groups by region when the configs give one, and shows each hub's state.
 * Returns { hubs, hub, reload } (reload: fetch the list again, e.g. after a token was saved). */
export async function setupHubPicker(select, onChange) {
  const picker = { hubs: [], hub: null, widget: null };
  const choose = (hub) => {
    picker.hub = hub;
    setParam("hub", hub.id);
    rememberHub(hub.id);
    onChange(hub);
  };
  picker.reload = async () => {
    const hubs = await api("/api/hubs");
    const asked = params.get("hub");
    picker.hubs = hubs;
    picker.hub = chooseHub(hubs) ?? null;
    if (!picker.widget || picker.widget.plain !== hubs.length <= PLAIN_PICKER_MAX) {
      const current = picker.widget ? picker.widget.element : select;
      picker.widget = hubs.length <= PLAIN_PICKER_MAX ? new PlainPicker(current, choose) : new HubSearch(current, choose);
    }
    picker.widget.show(hubs, picker.hub);
    if (picker.hub) {
      setParam("hub", picker.hub.id);
      if (asked === picker.hub.id) rememberHub(picker.hub.id); // an explicit ?hub=, not the default
    }
    return picker.hub;
  };
  await picker.reload();
  return picker;
}

class PlainPicker {
  constructor(select, choose) {
    this.plain = true;
    this.element = select;
    if (select.tagName !== "SELECT") {
      this.element = el("select", { id: select.id });
      (select.closest(".hub-search") ?? select).replaceWith(this.element);
    }
    this.element.addEventListener("change", () => choose(this.hubs.find((h) => h.id === this.element.value)));
  }

  show(hubs, hub) {
    this.hubs = hubs;
    this.element.replaceChildren(...hubs.map((h) => new Option(h.name, h.id)));
    if (hub) this.element.value = hub.id;
  }
}

/** A combobox (ARIA 1.2 pattern): a text box that filters a listbox of hubs grouped by region. */
class HubSearch {
  constructor(select, choose) {
    this.plain = false;
    this.choose = choose;
    this.hubs = [];
    this.current = null;
    this.active = -1;
    this.element = el("input", {
      id: select.id, type: "text", role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false",
      "aria-controls": `${select.id}-options`, autocomplete: "off", spellcheck: "false", class: "hub-search-input",
    });
    this.list = el("ul", { id: `${select.id}-options`, role: "listbox", class: "hub-options", hidden: true });
    this.box = el("div", { class: "hub-search" }, this.element, this.list);
    select.replaceWith(this.box);
    this.element.addEventListener("focus", () => { this.element.select(); this.open(); });
    this.element.addEventListener("input", () => { this.render(); this.setOpen(true); });
    this.element.addEventListener("keydown", (event) => this.key(event));
    this.element.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    this.list.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus in the box
    this.list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.pick(this.hubs.find((h) => h.id === option.dataset.hub));
    });
  }

  show(hubs, hub) {
    this.hubs = hubs;
    this.current = hub;
    this.element.setAttribute("aria-label", t("picker_label", { n: hubs.length }));
    this.element.placeholder = t("picker_placeholder");
    this.element.value = hub ? hub.name : "";
  }

  open() {
    this.render(true);
    this.setOpen(true);
  }

  close() {
    this.setOpen(false);
    if (this.current) this.element.value = this.current.name;
  }

  setOpen(open) {
    this.list.hidden = !open;
    this.element.setAttribute("aria-expanded", String(open));
  }

  matches(all = false) {
    const q = fold(this.element.value.trim());
    if (all || !q || (this.current && this.element.value === this.current.name)) return this.hubs;
    return this.hubs.filter((h) => [h.id, h.name, h.city, h.region].some((v) => fold(v).includes(q)));
  }

  render(all = false) {
    const hubs = this.matches(all);
    const grouped = this.hubs.some((h) => h.region);
    const groups = new Map();
    for (const h of hubs) {
      const key = grouped ? h.region || t("picker_other_region") : "";
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(h);
    }
    const keys = [...groups.keys()].sort((a, b) => a.localeCompare(b, lang));
    this.options = [];
    const items = [];
    for (const key of keys) {
      const members = groups.get(key).sort((a, b) => a.name.localeCompare(b.name, lang));
      const options = members.map((h) => this.option(h));
      this.options.push(...options);
      if (grouped) {
        const label = el("li", { role: "presentation", class: "hub-group", text: `${key} (${members.length})` });
        items.push(el("li", { role: "group", "aria-label": key }, el("ul", { role: "presentation" }, label, ...options)));
      } else items.push(...options);
    }
    if (!hubs.length) items.push(el("li", { role: "presentation", class: "hub-none", text: t("picker_none") }));
    this.list.replaceChildren(...items);
    this.setActive(this.options.findIndex((o) => o.dataset.hub === this.current?.id));
  }

  option(h) {
    const state = h.open_now ? [t("picker_free", { n: h.free }), h.unknown ? t("picker_unknown", { n: h.unknown }) : ""]
      .filter(Boolean).join(" · ") : t("picker_closed");
    return el("li", { role: "option", id: `hub-opt-${h.id}`, "data-hub": h.id, "aria-selected": String(h.id === this.current?.id),
      class: h.unknown ? "hub-option has-unknown" : "hub-option" },
      el("span", { class: "hub-option-name", text: h.name }),
      h.city ? el("span", { class: "hub-option-city", text: h.city }) : null,
      el("span", { class: "hub-option-state", text: state }));
  }

  setActive(index) {
    this.active = index;
    this.options.forEach((o, i) => o.classList.toggle("active", i === index));
    const option = this.options[index];
    if (option) {
      this.element.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else this.element.removeAttribute("aria-activedescendant");
  }

  key(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (this.list.hidden) this.open();
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.setActive(Math.max(0, Math.min(this.options.length - 1, this.active + step)));
    } else if (event.key === "Enter") {
      event.preventDefault();
      const option = this.options[this.active] ?? (this.options.length === 1 ? this.options[0] : null);
      if (option) this.pick(this.hubs.find((h) => h.id === option.dataset.hub));
    } else if (event.key === "Escape") {
      this.close();
    }
  }

  pick(hub) {
    if (!hub) return;
    this.current = hub;
    this.close();
    this.element.blur();
    this.choose(hub);
  }
}

export function setupLangSwitch(button, onSwitch) {
  const label = () => {
    button.textContent = t("lang_switch");
    button.setAttribute("aria-label", t("lang_switch_label"));
    button.lang = lang === "sv" ? "en" : "sv";
  };
  label();
  button.addEventListener("click", () => {
    setLang(lang === "sv" ? "en" : "sv");
    label();
    translateStatic();
    onSwitch();
  });
}

/** Keep nav links carrying the current hub, language and token. */
export function updateNavLinks() {
  document.querySelectorAll("a[data-keep-query]").forEach((a) => {
    const url = new URL(a.getAttribute("href"), location.origin);
    for (const key of ["hub", "lang", "token"]) {
      if (params.get(key)) url.searchParams.set(key, params.get(key));
      else url.searchParams.delete(key);
    }
    a.setAttribute("href", url.pathname + url.search);
  });
}

// ---- live feed --------------------------------------------------------------
/**
 * Server-Sent Events for one hub.  EventSource reconnects by itself after a
 * dropped connection; when the browser gives up (state CLOSED, e.g. after an
 * HTTP error from a proxy) we open a new one with a back-off.  After every
 * (re)connect the caller gets onResync() to fetch a full snapshot, since
 * changes made while disconnected are not replayed.  refreshMs adds a periodic
 * full refresh as a fallback (kiosk).  onRoom, if given, gets the "room" events.
 */
export class LiveFeed {
  constructor(hub, { onZone, onRoom = null, onResync, onStatus, refreshMs = 0 }) {
    Object.assign(this, { hub, onZone, onRoom, onResync, onStatus, refreshMs });
    this.source = null;
    this.retryMs = 1000;
    this.timers = [];
  }

  start() {
    this.open();
    if (this.refreshMs) this.timers.push(setInterval(() => this.onResync(), this.refreshMs));
    return this;
  }

  open() {
    const source = new EventSource(apiUrl("/api/stream", { hub: this.hub }));
    this.source = source;
    source.addEventListener("open", () => {
      this.retryMs = 1000;
      this.onStatus("live");
      this.onResync();
    });
    source.addEventListener("zone", (event) => this.onZone(JSON.parse(event.data)));
    // a bookable room's card changed (booked, released, free until ...): a RoomOut
    if (this.onRoom) source.addEventListener("room", (event) => this.onRoom(JSON.parse(event.data)));
    source.addEventListener("error", () => {
      this.onStatus("reconnecting");
      if (source.readyState === EventSource.CLOSED && this.source === source) {
        const delay = this.retryMs;
        this.retryMs = Math.min(this.retryMs * 2, 30000);
        this.timers.push(setTimeout(() => { if (this.source === source) this.open(); }, delay));
      }
    });
  }

  stop() {
    if (this.source) this.source.close();
    this.source = null;
    this.timers.forEach((id) => { clearInterval(id); clearTimeout(id); });
    this.timers = [];
  }
}
