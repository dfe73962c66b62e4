// Network overview (/network): every hub the manager token may see in one table — live counts,
// agents offline, stuck sensors, the agents' queues, yesterday's and this week's utilisation with
// data quality — sortable, filterable, each hub linking to its own views.  Rows come from
// /api/network/hubs, which the server builds from cached per-hub summaries.
import {
  ApiError, api, apiUrl, download, el, fold, params, percent, saveToken, setParam, setupLangSwitch, t, token,
  translateStatic, updateNavLinks,
} from "./common.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 30_000;
const state = { data: null, sort: params.get("sort") || "", dir: params.get("dir") === "desc" ? -1 : 1, locked: false };

const util = (f) => (f ? f.utilisation : null);
const problems = (h) => h.unknown > 0 || h.agents_offline > 0 || h.stuck_sensors > 0 || (h.dropped ?? 0) > 0;

// key, label, numeric, sort value, cell
const COLUMNS = [
  ["name", "net_col_hub", false, (h) => fold(h.name), (h) => el("th", { scope: "row" }, el("span", { text: h.name }),
    el("div", { class: "agent-name", text: h.open_now ? h.id : `${h.id} · ${t("net_closed")}` }))],
  ["city", "net_col_city", false, (h) => fold(h.city), (h) => el("td", { text: h.city ?? "" })],
  ["region", "net_col_region", false, (h) => fold(h.region), (h) => el("td", { text: h.region ?? "" })],
  ["free", "net_col_free", true, (h) => h.free, (h) => num(h.free)],
  ["occupied", "net_col_occupied", true, (h) => h.occupied, (h) => num(h.occupied)],
  ["unknown", "net_col_unknown", true, (h) => h.unknown, (h) => num(h.unknown, h.unknown > 0)],
  ["agents_offline", "net_col_agents", true, (h) => h.agents_offline,
    (h) => num(h.agents_offline, h.agents_offline > 0, `${h.agents_offline}/${h.agents}`)],
  ["stuck_sensors", "net_col_stuck", true, (h) => h.stuck_sensors, (h) => num(h.stuck_sensors, h.stuck_sensors > 0)],
  ["queued", "net_col_queued", true, (h) => h.queued ?? -1,
    (h) => num(h.queued, (h.dropped ?? 0) > 0, h.queued === null ? t("no_data") : `${h.queued}${h.dropped ? ` (−${h.dropped})` : ""}`)],
  ["yesterday", "net_col_yesterday", true, (h) => util(h.yesterday) ?? -1, (h) => figures(h.yesterday)],
  ["week", "net_col_week", true, (h) => util(h.week) ?? -1, (h) => figures(h.week)],
];

function num(value, warn = false, text = null) {
  return el("td", { class: warn ? "num warn" : "num", text: text ?? (value === null ? t("no_data") : String(value)) });
}

function figures(f) {
  if (!f) return el("td", { class: "num", text: t("no_data") });
  return el("td", { class: "num" }, el("span", { text: percent(f.utilisation) }),
    el("div", { class: "agent-name", text: t("net_quality", { q: percent(f.data_quality) }) }));
}

function links(h) {
  const to = (path) => el("a", { href: `${path}?hub=${encodeURIComponent(h.id)}`, text: t(`nav_${path === "/" ? "member" : path.slice(1)}`) });
  return el("td", { class: "views-links" }, to("/"), " · ", to("/manager"), " · ", to("/kiosk"));
}

// ---- table ------------------------------------------------------------------------------
function header() {
  return el("thead", {}, el("tr", {}, ...COLUMNS.map(([key, label, numeric]) => {
    const sorted = state.sort === key;
    const th = el("th", { scope: "col", class: numeric ? "num" : null,
      "aria-sort": sorted ? (state.dir > 0 ? "ascending" : "descending") : null });
    th.append(el("button", { type: "button", class: "sort", "data-sort": key, "aria-label": t("net_sort", { col: t(label) }),
      onclick: () => sortBy(key) }, t(label), sorted ? (state.dir > 0 ? " ▲" : " ▼") : ""));
    return th;
  }), el("th", { scope: "col", text: t("net_col_views") })));
}

function visible(hubs) {
  const q = fold($("net-search").value.trim());
  const region = $("net-region").value;
  const onlyProblems = $("net-problems").checked;
  return hubs.filter((h) => (!q || [h.id, h.name, h.city, h.region].some((v) => fold(v).includes(q)))
    && (!region || h.region === region) && (!onlyProblems || problems(h)));
}

function sorted(hubs) {
  const col = COLUMNS.find(([key]) => key === state.sort);
  if (!col) return hubs;
  const value = col[3];
  return [...hubs].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    return (x < y ? -1 : x > y ? 1 : 0) * state.dir || fold(a.name).localeCompare(fold(b.name));
  });
}

/** Narrow screens show each cell with its column name (style.css). */
function labelled(cell, label) {
  if (cell.tagName === "TD") cell.dataset.label = t(label);
  return cell;
}

function render() {
  const hubs = state.data?.hubs ?? [];
  const shown = sorted(visible(hubs));
  const body = el("tbody", {}, ...shown.map((h) => el("tr", { "data-hub": h.id, class: problems(h) ? "problem" : null },
    ...COLUMNS.map((c) => labelled(c[4](h), c[1])), links(h))));
  $("net").replaceChildren(header(), body);
  $("net-count").textContent = t("net_count", { shown: shown.length, total: hubs.length });
  renderNotes();
}

function renderNotes() {
  const data = state.data;
  if (!data) return;
  const notes = [data.history_at ? t("net_history_at", { t: new Date(data.history_at).toLocaleString(document.documentElement.lang) })
    : t("net_history_pending")];
  if (data.spool) notes.push(t("net_spool", data.spool));
  $("net-notes").textContent = notes.join(" ");
}

function fillRegions() {
  const select = $("net-region");
  const current = select.value || params.get("region") || "";
  const regions = [...new Set((state.data?.hubs ?? []).map((h) => h.region).filter(Boolean))].sort((a, b) => a.localeCompare(b));
  select.replaceChildren(new Option(t("net_region_all"), ""), ...regions.map((r) => new Option(r, r)));
  select.value = regions.includes(current) ? current : "";
  select.closest("label").hidden = regions.length < 2;
}

function sortBy(key) {
  state.dir = state.sort === key ? -state.dir : (COLUMNS.find(([k]) => k === key)[2] ? -1 : 1); // numbers: largest first
  state.sort = key;
  setParam("sort", key);
  setParam("dir", state.dir > 0 ? "asc" : "desc");
  render();
  document.querySelector(`button[data-sort="${key}"]`)?.focus();
}

// ---- CSV --------------------------------------------------------------------------------
function renderCsv() {
  const today = new Date();
  const iso = (d) => d.toISOString().slice(0, 10);
  const start = new Date(today.getTime() - 27 * 86400_000);
  const end = new Date(today.getTime() + 86400_000);
  const items = [
    [t("net_csv_overview"), "/api/network/hubs", {}, "network-hubs.csv"],
    [t("net_csv_compare"), "/api/network/utilisation", { start: iso(start), end: iso(end), bucket: "week" }, "network-utilisation.csv"],
  ];
  $("net-csv").replaceChildren(...items.map(([label, path, query, name]) => {
    const href = apiUrl(path, { ...query, format: "csv" });
    const a = el("a", { href, download: name, text: `${label} (CSV)` });
    a.addEventListener("click", (event) => {
      if (!token()) return;
      event.preventDefault();
      download(href, name).catch(showError);
    });
    return el("li", {}, a);
  }));
}

// ---- loading ----------------------------------------------------------------------------
function setLocked(locked) {
  state.locked = locked;
  $("locked").hidden = !locked;
  if (locked) $("locked-text").textContent = token() ? t("token_refused") : t("token_needed");
}

function showError(err) {
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
    setLocked(true);
    state.data = null;
    render();
    return;
  }
  $("error").textContent = err instanceof ApiError ? t("error_load", { e: err.status }) : t("error_network");
  $("error").hidden = false;
}

async function load() {
  try {
    state.data = await api("/api/network/hubs");
    performance.mark("network-data");
    $("error").hidden = true;
    setLocked(false);
    fillRegions();
    render();
    performance.mark("network-rendered");
  } catch (err) {
    showError(err);
  }
}

function main() {
  translateStatic();
  document.title = `${t("title_network")} · hubsense`;
  $("net-search").value = params.get("q") || "";
  $("net-problems").checked = params.get("problems") === "1";
  setupLangSwitch($("lang"), () => { render(); renderCsv(); updateNavLinks(); document.title = `${t("title_network")} · hubsense`; });
  $("token").value = token();
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveToken($("token").value.trim());
    load();
  });
  $("net-filters").addEventListener("submit", (event) => event.preventDefault());
  $("net-search").addEventListener("input", () => { setParam("q", $("net-search").value.trim()); render(); });
  $("net-region").addEventListener("change", () => { setParam("region", $("net-region").value); render(); });
  $("net-problems").addEventListener("change", () => { setParam("problems", $("net-problems").checked ? "1" : null); render(); });
  updateNavLinks();
  renderCsv();
  load();
  setInterval(load, REFRESH_MS);
}

main();
