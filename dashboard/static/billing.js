// Billing per organisation for a month (manager page): booked and used hours, no-show rate, overrun minutes
// and the invoice preview, with each organisation's printable statement and the month's CSV.
// Renders into an element with id "billing"; follows the page's hub selector (#hub).
import { ApiError, api, apiUrl, token } from "./common.js";

const TEXT = {
  sv: {
    title: "Fakturering per organisation", month: "Månad", org: "Organisation", bookings: "Bokningar",
    booked: "Bokat (h)", used: "Använt (h)", noShows: "Uteblivna", overrun: "Överdrag (min)", amount: "Belopp",
    statement: "Underlag", preview: "Förhandsgranska", total: "Summa", csv: "CSV", excel: "CSV för Excel",
    unassigned: "{n} bokningar kunde inte knytas till en organisation: lägg till organisationens e-postdomän "
      + "eller kalenderidentitet i hubbens konfiguration.",
    upcoming: "{n} bokningar under månaden har inte börjat än och ingår inte.",
    unbilled: "Rum med bokningar men utan taxa (debiteras inte): {rooms}.",
    quality: "{n} bokningar debiterades som bokade eftersom sensorerna var okända.",
    provisional: "{n} bokningar pågår och är prissatta som bokade tills vidare.",
    error: "Kunde inte hämta faktureringen",
  },
  en: {
    title: "Billing per organisation", month: "Month", org: "Organisation", bookings: "Bookings",
    booked: "Booked (h)", used: "Used (h)", noShows: "No-shows", overrun: "Overrun (min)", amount: "Amount",
    statement: "Statement", preview: "Preview", total: "Total", csv: "CSV", excel: "CSV for Excel",
    unassigned: "{n} bookings matched no organisation: add the organisation's e-mail domain or calendar "
      + "identifier to the hub's configuration.",
    upcoming: "{n} bookings of the month have not started yet and are not included.",
    unbilled: "Rooms with bookings but no tariff (not billed): {rooms}.",
    quality: "{n} bookings were billed as booked because the sensors were unknown.",
    provisional: "{n} bookings are still running and priced as booked for now.",
    error: "Could not load billing",
  },
};
const lang = () => (document.documentElement.lang === "en" ? "en" : "sv");
const tr = (key, vars = {}) => (TEXT[lang()][key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, v);
  for (const child of children) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

const number = (value, digits = 1) => Number(value).toLocaleString(lang() === "sv" ? "sv-SE" : "en-GB",
  { maximumFractionDigits: digits });
const money = (amount, currency) => `${Number(amount).toLocaleString(lang() === "sv" ? "sv-SE" : "en-GB",
  { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;

function hub() {
  return document.getElementById("hub")?.value || new URLSearchParams(location.search).get("hub") || "";
}

function thisMonth() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
}

function statementLink(report, org) {
  const url = new URL("/statement", location.origin);
  url.search = new URLSearchParams({ hub: report.hub, month: report.month, organisation: org.organisation,
    ...(lang() === "en" ? { lang: "en" } : {}) }).toString();
  return el("a", { href: url.pathname + url.search, "data-organisation": org.organisation }, tr("preview"));
}

/** A CSV download: the manager token goes as a Bearer header, which a plain link cannot send. */
function csvLink(report, dialect) {
  const path = `/api/hubs/${encodeURIComponent(report.hub)}/billing`;
  const href = apiUrl(path, { month: report.month, format: "csv", dialect });
  const name = `${report.hub}-billing-${report.month}${dialect === "excel-sv" ? "-excel" : ""}.csv`;
  const a = el("a", { href, download: name, "data-dialect": dialect }, dialect === "excel-sv" ? tr("excel") : tr("csv"));
  a.addEventListener("click", async (event) => {
    if (!token()) return;
    event.preventDefault();
    const response = await fetch(href, { headers: { Authorization: "Bearer " + token() } });
    if (!response.ok) return;
    const url = URL.createObjectURL(await response.blob());
    const tmp = el("a", { href: url, download: name });
    document.body.append(tmp);
    tmp.click();
    tmp.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  return el("li", {}, a);
}

export function renderBilling(target, report) {
  const heads = [tr("org"), tr("bookings"), tr("booked"), tr("used"), tr("noShows"), tr("overrun"), tr("amount"), tr("statement")];
  const rows = report.organisations.map((o) => el("tr", { "data-organisation": o.organisation },
    el("th", { scope: "row" }, o.name), el("td", { class: "num" }, o.bookings),
    el("td", { class: "num" }, number(o.booked_hours)), el("td", { class: "num" }, number(o.used_hours)),
    el("td", { class: "num" }, o.no_show_rate === null ? "–" : `${o.no_shows} (${Math.round(o.no_show_rate * 100)} %)`),
    el("td", { class: "num" }, number(o.overrun_minutes, 0)),
    el("td", { class: "num amount" }, money(o.amount, report.currency)),
    el("td", {}, o.bookings ? statementLink(report, o) : "")));
  const sum = (key) => report.organisations.reduce((n, o) => n + o[key], 0);
  const totals = el("tr", { class: "totals" }, el("th", { scope: "row" }, tr("total")),
    el("td", { class: "num" }, sum("bookings")), el("td", { class: "num" }, number(sum("booked_hours"))),
    el("td", { class: "num" }, number(sum("used_hours"))), el("td", { class: "num" }, sum("no_shows")),
    el("td", { class: "num" }, number(sum("overrun_minutes"), 0)),
    el("td", { class: "num amount" }, money(report.amount, report.currency)), el("td"));
  const table = el("table", { class: "data billing" },
    el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows), el("tfoot", {}, totals));
  const notes = [];
  if (report.unassigned) notes.push(el("p", { class: "billing-note warn", "data-note": "unassigned" }, tr("unassigned", { n: report.unassigned })));
  const marked = sum("sensors_unknown");
  if (marked) notes.push(el("p", { class: "billing-note" }, tr("quality", { n: marked })));
  const provisional = sum("provisional");
  if (provisional) notes.push(el("p", { class: "billing-note" }, tr("provisional", { n: provisional })));
  if (report.upcoming) notes.push(el("p", { class: "billing-note" }, tr("upcoming", { n: report.upcoming })));
  if (report.unbilled_rooms.length) notes.push(el("p", { class: "billing-note" }, tr("unbilled", { rooms: report.unbilled_rooms.join(", ") })));
  const links = el("ul", { class: "billing-actions" }, csvLink(report, "excel-sv"), csvLink(report, "standard"));
  target.replaceChildren(el("div", { class: "table-wrap" }, table), ...notes, links);
}

async function refresh(root, parts) {
  const id = hub();
  if (!id) return;
  try {
    const report = await api(`/api/hubs/${encodeURIComponent(id)}/billing`, { month: parts.month.value || thisMonth() });
    root.hidden = false;
    renderBilling(parts.body, report);
  } catch (err) {
    parts.body.replaceChildren();
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      root.hidden = true; // the page says once that a manager token is needed
      return;
    }
    root.hidden = false;
    parts.body.append(el("p", { class: "error", role: "alert" }, `${tr("error")} (${err.status ?? "–"})`));
  }
}

function start() {
  const root = document.getElementById("billing");
  if (!root) return;
  const month = el("input", { type: "month", id: "billing-month", value: new URLSearchParams(location.search).get("month") || thisMonth() });
  const label = el("label", {}, el("span", {}, tr("month")), " ", month);
  const heading = el("h2", { id: "h-billing" }, tr("title"));
  const parts = { month, body: el("div", { class: "billing-body", "aria-live": "polite" }) };
  root.setAttribute("aria-labelledby", "h-billing");
  root.replaceChildren(el("div", { class: "billing-head" }, heading, label), parts.body);
  const again = () => refresh(root, parts);
  month.addEventListener("change", again);
  document.getElementById("hub")?.addEventListener("change", again);
  document.addEventListener("hubsense:reload", again);
  document.getElementById("lang")?.addEventListener("click", () => setTimeout(() => {
    heading.textContent = tr("title");
    label.firstChild.textContent = tr("month");
    again();
  }, 0));
  const wait = setInterval(() => { if (hub()) { clearInterval(wait); again(); } }, 100);
}

start();
