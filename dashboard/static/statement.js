// The printable statement page (/statement?hub=&month=&organisation=[&lang=en]): shows the statement the
// API renders (/api/hubs/{hub}/billing/statement, a manager route) and prints it (the browser saves a PDF).
import { apiUrl, params, token } from "./common.js";

const TEXT = {
  sv: { back: "← Förvaltare", print: "Skriv ut / spara som PDF", loading: "Hämtar underlaget …",
    missing: "Adressen saknar hub, month eller organisation.", locked: "Underlaget kräver en förvaltartoken: öppna det från förvaltarvyn.",
    error: "Kunde inte hämta underlaget" },
  en: { back: "← Manager", print: "Print / save as PDF", loading: "Loading the statement …",
    missing: "The address lacks hub, month or organisation.", locked: "The statement needs a manager token: open it from the manager view.",
    error: "Could not load the statement" },
};
const lang = params.get("lang") === "en" ? "en" : "sv";
const tr = (key) => TEXT[lang][key];
const $ = (id) => document.getElementById(id);

async function show() {
  document.documentElement.lang = lang;
  $("back").textContent = tr("back");
  $("print").textContent = tr("print");
  const back = new URL("/manager", location.origin);
  for (const key of ["hub", "lang"]) if (params.get(key)) back.searchParams.set(key, params.get(key));
  $("back").setAttribute("href", back.pathname + back.search);
  const [hub, month, organisation] = ["hub", "month", "organisation"].map((k) => params.get(k));
  if (!hub || !month || !organisation) {
    $("status").textContent = tr("missing");
    return;
  }
  $("status").textContent = tr("loading");
  const headers = token() ? { Authorization: "Bearer " + token() } : {};
  const url = apiUrl(`/api/hubs/${encodeURIComponent(hub)}/billing/statement`, { month, organisation, lang });
  const response = await fetch(url, { headers, cache: "no-store" });
  if (!response.ok) {
    let detail = "";
    try { detail = (await response.json()).detail; } catch { /* not JSON */ }
    $("status").textContent = response.status === 401 || response.status === 403 ? tr("locked")
      : `${tr("error")} (${response.status}${detail ? ": " + detail : ""})`;
    $("status").classList.add("error");
    return;
  }
  // The API's page has no script and every value escaped: take its article as it is.
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const article = page.querySelector("article.statement");
  $("statement").replaceChildren(document.importNode(article, true));
  document.title = page.title;
  $("status").textContent = "";
  $("print").hidden = false;
}

$("print").addEventListener("click", () => window.print());
show();
