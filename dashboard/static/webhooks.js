// Outbound webhooks on the manager page: subscriptions (create, pause, delete), "send test event"
// and each subscription's delivery log (status, attempts, last error).  Renders into #webhooks.
import { api, apiSend } from "./common.js";

const TEXT = {
  sv: {
    title: "Webhooks", intro: "Hubsense skickar signerade JSON-händelser till andra system (städning, värme, bokning, chatt).",
    none: "Inga webhooks ännu.", url: "Mottagarens URL", events: "Händelser", create: "Skapa webhook",
    onlyFreeOccupied: "Bara ledig ↔ upptagen", status: "Status", deliveries: "Leveranser", actions: "Åtgärder",
    active: "aktiv", paused: "pausad", pause: "Pausa", resume: "Återuppta", remove: "Ta bort", test: "Skicka testhändelse",
    log: "Leveranslogg", hideLog: "Dölj logg", confirmRemove: "Ta bort webhooken och dess leveranslogg?",
    secret: "Signeringsnyckel (visas bara nu, spara den hos mottagaren):", counts: "{pending} väntar · {delivered} levererade · {failed} misslyckade",
    time: "Tid", type: "Typ", attempts: "Försök", lastStatus: "Svar", lastError: "Senaste fel", logEmpty: "Inga leveranser ännu.",
    pending: "väntar", delivered: "levererad", failed: "misslyckad", queued: "Testhändelsen är köad.",
    error: "Webhooks kunde inte hämtas",
    g_zone: "Zon ledig / upptagen", g_rooms: "Rum släppt / utan bokning / drar över", g_agents: "Agent offline / tillbaka",
    g_stuck: "Sensor fastnat", g_clock: "Agentens klocka fel", g_spool: "Bufferten över 80 %", g_summary: "Dagssammanfattning",
  },
  en: {
    title: "Webhooks", intro: "hubsense sends signed JSON events to other systems (cleaning, heating, booking, chat).",
    none: "No webhooks yet.", url: "Receiver URL", events: "Events", create: "Create webhook",
    onlyFreeOccupied: "Only free ↔ occupied", status: "Status", deliveries: "Deliveries", actions: "Actions",
    active: "active", paused: "paused", pause: "Pause", resume: "Resume", remove: "Delete", test: "Send test event",
    log: "Delivery log", hideLog: "Hide log", confirmRemove: "Delete the webhook and its delivery log?",
    secret: "Signing secret (shown only now; keep it with the receiver):", counts: "{pending} pending · {delivered} delivered · {failed} failed",
    time: "Time", type: "Type", attempts: "Attempts", lastStatus: "Answer", lastError: "Last error", logEmpty: "No deliveries yet.",
    pending: "pending", delivered: "delivered", failed: "failed", queued: "The test event is queued.",
    error: "Could not load webhooks",
    g_zone: "Zone free / occupied", g_rooms: "Room released / walk-in / overrun", g_agents: "Agent offline / back",
    g_stuck: "Sensor stuck", g_clock: "Agent clock off", g_spool: "Spool above 80 %", g_summary: "Daily summary",
  },
};
const GROUPS = {
  zone: ["zone.state_changed"], rooms: ["room.released", "room.walk_in", "room.overrun"],
  agents: ["agent.offline", "agent.online"], stuck: ["sensor.stuck", "sensor.recovered"],
  clock: ["agent.clock_skew", "agent.clock_ok"], spool: ["spool.high", "spool.ok"], summary: ["summary.daily"],
};
const LOG_REFRESH_MS = 5_000;

const tr = (key, vars = {}) => ((TEXT[document.documentElement.lang] || TEXT.sv)[key] ?? key)
  .replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString(document.documentElement.lang, { dateStyle: "short", timeStyle: "medium" }) : "";
}

const state = { root: null, list: null, form: null, notice: null, log: null, open: null, timer: null };

function groupsOf(events) {
  return Object.keys(GROUPS).filter((g) => GROUPS[g].some((e) => events.includes(e))).map((g) => tr(`g_${g}`));
}

function row(sub) {
  const act = (label, handler, extra = {}) => el("button", { type: "button", onclick: handler, ...extra }, label);
  return el("tr", { "data-webhook": sub.id },
    el("td", {}, el("code", {}, sub.url), sub.description ? el("div", { class: "hint" }, sub.description) : null),
    el("td", {}, groupsOf(sub.events).join(", ")),
    el("td", {}, sub.active ? tr("active") : tr("paused")),
    el("td", { class: "counts" }, tr("counts", sub.deliveries)),
    el("td", { class: "actions" },
      act(tr("test"), () => sendTest(sub), { class: "test" }),
      act(state.open === sub.id ? tr("hideLog") : tr("log"), () => toggleLog(sub), { class: "log" }),
      act(sub.active ? tr("pause") : tr("resume"), () => change(sub, { active: !sub.active }), { class: "pause" }),
      act(tr("remove"), () => remove(sub), { class: "remove" })));
}

async function refresh() {
  try {
    const subs = await api("/api/webhooks");
    state.root.hidden = false;
    const head = el("tr", {}, ...["url", "events", "status", "deliveries", "actions"].map((k) => el("th", { scope: "col" }, tr(k))));
    state.list.replaceChildren(subs.length
      ? el("div", { class: "table-wrap" }, el("table", { class: "data webhooks" }, el("thead", {}, head), el("tbody", {}, ...subs.map(row))))
      : el("p", {}, tr("none")));
    if (state.open && !subs.some((s) => s.id === state.open)) state.open = null;
    if (state.open) await loadLog(state.open);
    else state.log.replaceChildren();
  } catch (err) {
    if (err.status === 401 || err.status === 403) { state.root.hidden = true; return; } // the page says what is missing
    state.list.replaceChildren(el("p", { class: "error", role: "alert" }, `${tr("error")} (${err.status ?? "–"})`));
  }
}

async function loadLog(id) {
  const log = await api(`/api/webhooks/${encodeURIComponent(id)}/deliveries`, { limit: 50 });
  const head = el("tr", {}, ...["time", "type", "status", "attempts", "lastStatus", "lastError"].map((k) => el("th", { scope: "col" }, tr(k))));
  const rows = log.deliveries.map((d) => el("tr", { "data-delivery": d.id, "data-status": d.status },
    el("td", {}, when(d.created)), el("td", {}, d.type), el("td", {}, tr(d.status)), el("td", {}, d.attempts),
    el("td", {}, d.last_status ?? ""), el("td", {}, d.last_error ?? "")));
  state.log.replaceChildren(el("h3", {}, `${tr("log")}: ${id}`),
    rows.length ? el("div", { class: "table-wrap" }, el("table", { class: "data delivery-log" }, el("thead", {}, head), el("tbody", {}, ...rows)))
      : el("p", {}, tr("logEmpty")));
}

function say(text, cls = "hint") {
  state.notice.replaceChildren(text ? el("p", { class: cls, role: cls === "error" ? "alert" : "status" }, text) : "");
}

async function act(work) {
  try {
    await work();
    await refresh();
  } catch (err) {
    say(err.detail || err.message, "error");
  }
}

function sendTest(sub) {
  return act(async () => {
    await apiSend("POST", `/api/webhooks/${encodeURIComponent(sub.id)}/test`);
    state.open = sub.id;
    say(tr("queued"));
  });
}

function toggleLog(sub) {
  state.open = state.open === sub.id ? null : sub.id;
  return act(async () => {});
}

function change(sub, patch) {
  return act(() => apiSend("PATCH", `/api/webhooks/${encodeURIComponent(sub.id)}`, patch));
}

function remove(sub) {
  if (!window.confirm(tr("confirmRemove"))) return null;
  return act(() => apiSend("DELETE", `/api/webhooks/${encodeURIComponent(sub.id)}`));
}

function buildForm() {
  const boxes = Object.keys(GROUPS).map((g) => el("label", { class: "check" },
    el("input", { type: "checkbox", name: "group", value: g, checked: g === "zone" || g === "agents" }), ` ${tr(`g_${g}`)}`));
  const form = el("form", { class: "webhook-form" },
    el("label", {}, el("span", {}, tr("url")), el("input", { type: "url", name: "url", required: true, placeholder: "https://" })),
    el("fieldset", {}, el("legend", {}, tr("events")), ...boxes),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "free_occupied_only" }), ` ${tr("onlyFreeOccupied")}`),
    el("button", { type: "submit", class: "primary" }, tr("create")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const events = data.getAll("group").flatMap((g) => GROUPS[g]);
    act(async () => {
      const sub = await apiSend("POST", "/api/webhooks", {
        url: data.get("url"), events: events.length ? events : ["ping"], free_occupied_only: data.has("free_occupied_only"),
      });
      form.reset();
      state.notice.replaceChildren(el("p", { class: "secret", role: "status" }, tr("secret"), " ", el("code", {}, sub.secret)));
    });
  });
  return form;
}

function render() {
  state.list = el("div", { class: "webhook-list" });
  state.log = el("div", { class: "webhook-log", "aria-live": "polite" });
  state.notice = el("div", { class: "webhook-notice" });
  state.root.replaceChildren(el("h2", {}, tr("title")), el("p", { class: "caption" }, tr("intro")), state.list,
    buildForm(), state.notice, state.log);
}

function start() {
  state.root = document.getElementById("webhooks");
  if (!state.root) return;
  render();
  refresh();
  document.addEventListener("hubsense:reload", refresh); // e.g. a manager token was saved
  document.getElementById("lang")?.addEventListener("click", () => setTimeout(() => { render(); refresh(); }, 0));
  state.timer = setInterval(() => { if (state.open) refresh(); }, LOG_REFRESH_MS);
}

start();
