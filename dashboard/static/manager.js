// Manager view (/manager): utilisation, hour-of-week heatmap, peaks, sessions, data quality,
// CSV downloads, sensor / agent health and each zone's parameters (learned or configured) for one hub.
import {
  ApiError, api, apiUrl, ago, el, formatDuration, params, percent, saveToken, setParam, setupHubPicker,
  setupLangSwitch, stateIcon, t, token, translateStatic, updateNavLinks,
} from "./common.js";
import { heatmapSvg, hubHeatmap } from "./heatmap.js";

const $ = (id) => document.getElementById(id);
const DAY_MS = 86400_000;
const HEALTH_REFRESH_MS = 30_000;
const state = { hub: null, names: new Map(), data: null, health: null, profiles: null, locked: false };

// ---- period -------------------------------------------------------------------
function isoDate(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

function initPeriod() {
  const today = Date.parse(isoDate(Date.now()));
  $("from").value = params.get("from") || isoDate(today - 27 * DAY_MS);
  $("to").value = params.get("to") || isoDate(today);
  $("bucket").value = params.get("bucket") || "day";
}

/** The API period: start = local midnight of "from", end = local midnight after "to" (inclusive day). */
function period() {
  return { start: $("from").value, end: isoDate(Date.parse($("to").value) + DAY_MS) };
}

/** What is wrong with the dates as typed, in the page's language; "" when they are fine. */
function periodProblem() {
  const from = $("from").value;
  const to = $("to").value;
  if (!from || !to) return t("range_missing");
  if (to < from) return t("range_reversed", { from: localDate(from), to: localDate(to) });
  return "";
}

/** A typed YYYY-MM-DD as the user's locale writes it ("5 nov. 2026"). */
function localDate(day) {
  const [y, m, d] = day.split("-").map(Number);
  return new Intl.DateTimeFormat(document.documentElement.lang === "sv" ? "sv-SE" : "en-GB",
    { day: "numeric", month: "short", year: "numeric" }).format(new Date(y, m - 1, d));
}

// ---- access: one clear message without a (valid) manager token ------------------------------
function isAuthError(err) {
  return err instanceof ApiError && (err.status === 401 || err.status === 403);
}

function setLocked(locked) {
  state.locked = locked;
  document.body.classList.toggle("locked", locked);
  $("locked").hidden = !locked;
  if (locked) $("locked-text").textContent = token() ? t("token_refused") : t("token_needed");
  renderCsv();
}

/** Stats panels empty (an error or no access): nothing stale stays on screen. */
function clearStats() {
  state.data = null;
  for (const id of ["figures", "util", "quality", "series", "heatmap", "heat-legend", "sessions"]) $(id).replaceChildren();
}

// ---- loading --------------------------------------------------------------------
async function loadNames(hub) {
  const zones = await api(`/api/hubs/${hub.id}/zones`);
  state.names = new Map();
  for (const z of zones) {
    state.names.set(z.id, z.name);
    for (const d of z.desks) state.names.set(`${z.id}/${d.id}`, d.name);
  }
  state.zones = zones;
}

async function loadStats() {
  const hub = state.hub;
  const problem = periodProblem();
  if (problem) {
    clearStats();
    showMessage(problem);
    return;
  }
  const { start, end } = period();
  const bucket = $("bucket").value;
  $("status").querySelector(".status-text").textContent = "…";
  try {
    if (!state.names.size) await loadNames(hub);
    const [util, heat, sess] = await Promise.all([
      api(`/api/hubs/${hub.id}/utilisation`, { start, end, bucket }),
      api(`/api/hubs/${hub.id}/heatmap`, { start, end }),
      api(`/api/hubs/${hub.id}/sessions`, { start, end }),
    ]);
    if (state.hub !== hub) return;
    state.data = { util, heat, sess };
    $("error").hidden = true;
    setLocked(false);
    renderStats();
  } catch (err) {
    clearStats();
    showError(err);
  } finally {
    $("status").querySelector(".status-text").textContent = "";
  }
  renderCsv();
}

async function loadHealth() {
  const hub = state.hub;
  try {
    state.health = await api(`/api/hubs/${hub.id}/agents`);
  } catch (err) {
    state.health = err instanceof ApiError && err.status === 404 ? "missing" : err;
  }
  if (state.hub === hub) renderHealth();
}

async function loadProfiles() {
  const hub = state.hub;
  try {
    state.profiles = await api(`/api/hubs/${hub.id}/profiles`);
  } catch (err) {
    state.profiles = err;
  }
  if (state.hub === hub) renderProfiles();
}

function showError(err) {
  if (isAuthError(err)) {
    $("error").hidden = true;
    setLocked(true);
    return;
  }
  if (err instanceof ApiError && err.status === 400) {
    const { start, end } = period();
    showMessage(t("error_period", { from: localDate(start), to: localDate($("to").value), e: err.detail || "" }));
    return;
  }
  showMessage(err instanceof ApiError ? t("error_load", { e: err.status }) : t("error_network"));
}

function showMessage(text) {
  $("error").textContent = text;
  $("error").hidden = false;
}

// ---- utilisation ------------------------------------------------------------------
function totals(rows) {
  const by = new Map();
  for (const r of rows) {
    const key = r.zone ?? "";
    const s = by.get(key) ?? { open: 0, known: 0, occupied: 0, peakDesks: null, desks: r.desks };
    s.open += r.open_s;
    s.known += r.known_s;
    s.occupied += r.occupied_s;
    if (r.peak_desks_in_use !== null) s.peakDesks = Math.max(s.peakDesks ?? 0, r.peak_desks_in_use);
    by.set(key, s);
  }
  for (const s of by.values()) {
    s.utilisation = s.known > 0 ? s.occupied / s.known : null;
    s.quality = s.open > 0 ? s.known / s.open : null;
  }
  return by;
}

function barRow(name, value, extra, cls) {
  const width = value === null ? 0 : Math.round(value * 100);
  return el("tr", { class: cls },
    el("th", { scope: "row", text: name }),
    el("td", {}, el("div", { class: "bar" },
      el("span", { class: "fill", style: `width:${width}%`, "aria-hidden": "true" }),
      el("span", { class: "value", text: percent(value) }),
      extra ? el("span", { class: "quality", text: extra }) : null)));
}

function renderUtilisation(by) {
  const rows = [];
  for (const zone of state.zones) {
    const s = by.get(zone.id);
    if (!s) continue;
    const extra = zone.desks.length && s.peakDesks !== null ? `${t("peak_desks")}: ${s.peakDesks}/${zone.desks.length}` : "";
    rows.push(barRow(zone.name, s.utilisation, extra));
  }
  const hub = by.get("");
  if (hub) rows.push(barRow(t("util_hub"), hub.utilisation, "", "hub-row"));
  $("util").replaceChildren(el("tbody", {}, ...rows));

  const quality = state.zones.filter((z) => by.has(z.id)).map((z) => barRow(z.name, by.get(z.id).quality));
  if (hub) quality.push(barRow(t("util_hub"), hub.quality, "", "hub-row"));
  $("quality").replaceChildren(el("tbody", {}, ...quality));
}

function renderSeries(rows, timeZone) {
  const hubRows = rows.filter((r) => r.zone === null);
  const svg = $("series");
  const w = 600;
  const h = 150;
  const left = 34;
  const bottom = 20;
  const n = Math.max(hubRows.length, 1);
  const step = (w - left) / n;
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  const parts = [];
  for (const p of [0, 0.5, 1]) {
    const y = (h - bottom) * (1 - p) + 4;
    parts.push(el("line", { x1: left, x2: w, y1: y, y2: y }), el("text", { x: left - 4, y: y + 4, "text-anchor": "end", text: `${p * 100}%` }));
  }
  const fmt = new Intl.DateTimeFormat(document.documentElement.lang === "sv" ? "sv-SE" : "en-GB",
    { day: "numeric", month: "short", timeZone });
  const every = Math.ceil(n / 8);
  hubRows.forEach((r, i) => {
    const v = r.utilisation ?? 0;
    const colH = (h - bottom - 4) * v;
    const x = left + i * step + step * 0.15;
    const label = `${fmt.format(new Date(r.local_start))}: ${percent(r.utilisation)}`;
    parts.push(el("rect", { class: "col", x, y: h - bottom - colH, width: step * 0.7, height: Math.max(colH, 0.5) },
      el("title", { text: label })));
    if (i % every === 0) parts.push(el("text", { x: x + step * 0.35, y: h - 5, "text-anchor": "middle", text: fmt.format(new Date(r.local_start)) }));
  });
  svg.setAttribute("aria-label", `${t("util_over_time")}: ` + hubRows.map((r) =>
    `${fmt.format(new Date(r.local_start))} ${percent(r.utilisation)}`).join(", "));
  svg.replaceChildren(...parts);
}

// ---- peaks, sessions ----------------------------------------------------------------
function figure(label, value) {
  return el("div", {}, el("dt", { text: label }), el("dd", { text: value }));
}

function renderFigures(by, sess) {
  const hub = by.get("");
  const best = (key) => sess.peaks.reduce((a, p) => (p[key] !== null && (a === null || p[key] > a[key]) ? p : a), null);
  const pz = best("peak_zones");
  const pd = best("peak_desks");
  const visits = sess.sessions.filter((s) => s.desk === null).reduce((a, s) => a + s.count, 0);
  const zones = state.zones.filter((z) => z.kind !== "desk_area").length;
  const desks = state.zones.reduce((a, z) => a + z.desks.length, 0);
  $("figures").replaceChildren(
    figure(t("util_total"), percent(hub?.utilisation ?? null)),
    figure(t("quality_title"), percent(hub?.quality ?? null)),
    figure(t("peak_zones"), pz ? `${pz.peak_zones}/${zones} (${pz.date})` : t("no_data")),
    figure(t("peak_desks"), pd ? `${pd.peak_desks}/${desks} (${pd.date})` : t("no_data")),
    figure(t("visits_total"), String(visits)),
  );
}

function renderSessions(sess) {
  const head = el("thead", {}, el("tr", {},
    el("th", { scope: "col", text: t("sessions_zone") }), el("th", { scope: "col", class: "num", text: t("sessions_count") }),
    el("th", { scope: "col", class: "num", text: t("sessions_median") }), el("th", { scope: "col", class: "num", text: t("sessions_p90") })));
  const body = el("tbody", {}, ...sess.sessions.map((s) => {
    const name = s.desk ? `${state.names.get(s.zone) ?? s.zone} · ${state.names.get(`${s.zone}/${s.desk}`) ?? s.desk}` : state.names.get(s.zone) ?? s.zone;
    return el("tr", {}, el("th", { scope: "row", text: name }),
      el("td", { class: "num", "data-label": t("sessions_count"), text: String(s.count) }),
      el("td", { class: "num", "data-label": t("sessions_median"), text: formatDuration(s.median_s) }),
      el("td", { class: "num", "data-label": t("sessions_p90"), text: formatDuration(s.p90_s) }));
  }));
  $("sessions").replaceChildren(head, body);
}

// ---- heatmap ------------------------------------------------------------------------
function renderHeatmap() {
  const heat = state.data?.heat;
  if (!heat) return;
  const select = $("heat-zone");
  const current = select.value || params.get("zone") || "";
  select.replaceChildren(new Option(t("heatmap_all"), ""), ...state.zones.map((z) => new Option(z.name, z.id)));
  select.value = [...select.options].some((o) => o.value === current) ? current : "";
  const zone = heat.zones.find((z) => z.zone === select.value);
  const grid = zone ? zone.share : hubHeatmap(heat.zones);
  const title = `${t("heatmap_title")}: ${zone ? state.names.get(zone.zone) : t("heatmap_all")}`;
  const { svg, legend } = heatmapSvg($("heatmap"), grid, title);
  $("heat-legend").replaceChildren(...legend);
  return svg;
}

// ---- CSV ---------------------------------------------------------------------------
function csvLink(label, path, query, filename, excel = false) {
  const href = apiUrl(path, { ...query, format: "csv", dialect: excel ? "excel-sv" : null });
  const text = `${label} (${excel ? t("csv_excel") : "CSV"})`;
  if (state.locked) {
    return el("li", {}, el("a", { role: "link", "aria-disabled": "true", class: "disabled", text }));
  }
  const a = el("a", { href, download: filename, text, "data-dialect": excel ? "excel-sv" : "standard" });
  // Manager API calls take the token as a Bearer header, which a plain link cannot send.
  a.addEventListener("click", async (event) => {
    if (!token()) return;
    event.preventDefault();
    try {
      const response = await fetch(href, { headers: { Authorization: "Bearer " + token() } });
      if (!response.ok) throw new ApiError(response.status, "");
      const url = URL.createObjectURL(await response.blob());
      const tmp = el("a", { href: url, download: filename });
      document.body.append(tmp);
      tmp.click();
      tmp.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      showError(err);
    }
  });
  return el("li", {}, a);
}

function renderCsv() {
  if (!state.hub) return;
  const hub = state.hub.id;
  const { start, end } = period();
  const bucket = $("bucket").value;
  const base = `/api/hubs/${hub}`;
  const links = [
    [t("csv_util"), `${base}/utilisation`, { start, end, bucket }, "utilisation"],
    [t("csv_heatmap"), `${base}/heatmap`, { start, end }, "heatmap"],
    [t("peaks_title"), `${base}/sessions`, { start, end, table: "peaks" }, "peaks"],
    [t("csv_sessions"), `${base}/sessions`, { start, end, table: "sessions" }, "sessions"],
    [t("csv_forecast"), `${base}/forecast`, {}, "forecast"],
    [t("csv_profiles"), `${base}/profiles`, {}, "profiles"],
  ];
  // Swedish Excel wants semicolons, decimal commas and a BOM: offer that variant first in Swedish.
  const excelFirst = document.documentElement.lang === "sv";
  $("csv").replaceChildren(...links.flatMap(([label, path, query, name]) => {
    const plain = csvLink(label, path, query, `${hub}-${name}.csv`);
    const excel = csvLink(label, path, query, `${hub}-${name}-excel.csv`, true);
    return excelFirst ? [excel, plain] : [plain, excel];
  }));
}

// ---- health ------------------------------------------------------------------------
function statusBadge(agent) {
  const status = agent.status ?? (agent.online ? "online" : "offline");
  const icon = status === "online" ? "free" : status === "offline" ? "occupied" : "unknown";
  const cls = status === "online" ? "ok" : status === "offline" ? "bad" : "warn";
  const key = `health_${status}`;
  const text = t(key) === key ? status : t(key);
  return el("span", { class: `badge ${cls}` }, stateIcon(icon), el("span", { text }));
}

function seconds(value) {
  const text = (Math.abs(value) < 0.05 ? 0 : value).toFixed(1);
  return `${document.documentElement.lang === "sv" ? text.replace(".", ",").replace("-", "−") : text} s`;
}

function renderHealth() {
  const table = $("health");
  if (isAuthError(state.health)) {
    table.replaceChildren();
    setLocked(true);
    return;
  }
  if (state.health === "missing" || state.health instanceof Error) {
    table.replaceChildren(el("caption", { text: state.health === "missing" ? t("health_missing") : t("error_load", { e: state.health.message }) }));
    return;
  }
  const agents = state.health?.agents ?? state.health ?? [];
  const head = el("thead", {}, el("tr", {}, ...["health_agent", "health_status", "health_heartbeat", "health_queue",
    "health_clock", "health_stuck"].map((k) => el("th", { scope: "col", text: t(k) }))));
  const body = el("tbody", {}, ...agents.map((a) => el("tr", { "data-agent": a.agent, "data-status": a.status },
    el("th", { scope: "row" }, el("span", { text: a.agent }), a.name ? el("div", { class: "agent-name", text: a.name }) : null),
    el("td", { "data-label": t("health_status") }, statusBadge(a)),
    el("td", { "data-label": t("health_heartbeat"), text: a.last_heartbeat ? ago(a.last_heartbeat) : t("no_data") }),
    el("td", { class: "num", "data-label": t("health_queue"), text: a.queue_depth === null || a.queue_depth === undefined ? t("no_data") : `${a.queue_depth}${a.dropped ? ` (−${a.dropped})` : ""}` }),
    el("td", { class: "num", "data-label": t("health_clock"), text: a.clock_offset_s === null || a.clock_offset_s === undefined ? t("no_data") : seconds(a.clock_offset_s) }),
    el("td", { "data-label": t("health_stuck"), text: a.stuck_sensors?.length ? a.stuck_sensors.join(", ") : t("health_none") }))));
  table.replaceChildren(head, body);
}

// ---- zone parameters (learned / configured / default) ----------------------------------------
/** A parameter's duration: seconds under two minutes, then minutes, then hours. */
function paramDuration(seconds) {
  if (seconds < 120) return t("seconds", { n: Math.round(seconds) });
  return formatDuration(seconds);
}

function paramCell(label, param) {
  const key = `source_${param.source}`;
  return el("td", { class: "num", "data-label": label, "data-source": param.source },
    el("span", { text: paramDuration(param.value) }), " ",
    el("span", { class: `badge source-${param.source}`, text: t(key) }));
}

function renderProfiles() {
  const table = $("profiles");
  if (isAuthError(state.profiles)) {
    table.replaceChildren();
    setLocked(true);
    return;
  }
  if (state.profiles instanceof Error || !state.profiles) {
    table.replaceChildren(state.profiles ? el("caption", { text: t("error_load", { e: state.profiles.message }) }) : "");
    return;
  }
  const cols = [["profiles_hold", "vacancy_timeout_s"], ["profiles_passer", "vacancy_timeout_after_passer_by_s"],
    ["profiles_moved", "vacancy_timeout_after_moving_on_s"], ["profiles_still", "max_occupied_s"],
    ["profiles_door", "door_exit_window_s"]];
  const head = el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("profiles_zone") }),
    ...cols.map(([k]) => el("th", { scope: "col", class: "num", text: t(k) })),
    el("th", { scope: "col", class: "num", text: t("profiles_gaps") })));
  const body = el("tbody", {}, ...state.profiles.zones.map((z) => el("tr", { "data-zone": z.zone },
    el("th", { scope: "row", text: z.name }),
    ...cols.map(([k, name]) => (z.kind !== "room" && name === "door_exit_window_s"
      ? el("td", { class: "num", "data-label": t(k), text: t("no_data") }) : paramCell(t(k), z[name]))),
    el("td", { class: "num", "data-label": t("profiles_gaps"),
      text: z.learning ? t("profiles_gaps_n", { n: z.gaps_seen }) : t("profiles_not_learning") }))));
  table.replaceChildren(head, body);
}

// ---- wiring --------------------------------------------------------------------------
function renderStats() {
  const { util, heat, sess } = state.data;
  const by = totals(util.rows);
  renderFigures(by, sess);
  renderUtilisation(by);
  renderSeries(util.rows, util.timezone);
  renderHeatmap(heat);
  renderSessions(sess);
}

function selectHub(hub) {
  state.hub = hub;
  state.names = new Map();
  state.data = null;
  $("hub-name").textContent = hub.name;
  document.title = `${hub.name} · ${t("nav_manager")} · hubsense`;
  updateNavLinks();
  loadStats();
  loadHealth();
  loadProfiles();
}

async function main() {
  translateStatic();
  initPeriod();
  setupLangSwitch($("lang"), () => {
    if (state.data) renderStats();
    renderHealth();
    renderProfiles();
    setLocked(state.locked);
    updateNavLinks();
  });
  $("token").value = token();
  $("token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    saveToken($("token").value.trim());
    // the hub list follows the token (a hub-scoped token sees only its hubs)
    const hub = state.picker ? await state.picker.reload().catch(() => state.hub) : state.hub;
    // every panel reloads with the new token, the bookings too (dashboard/static/bookings.js)
    if (hub) selectHub(hub);
    document.dispatchEvent(new CustomEvent("hubsense:reload"));
  });
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    setParam("from", $("from").value);
    setParam("to", $("to").value);
    setParam("bucket", $("bucket").value);
    loadStats();
  });
  $("heat-zone").addEventListener("change", () => { setParam("zone", $("heat-zone").value); renderHeatmap(); });
  try {
    state.picker = await setupHubPicker($("hub"), selectHub);
    if (state.picker.hub) selectHub(state.picker.hub);
  } catch (err) {
    showError(err);
  }
  setInterval(() => state.hub && (loadHealth(), loadProfiles()), HEALTH_REFRESH_MS);
}

main();
