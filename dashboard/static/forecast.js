// "Usually busy" for the coming hours, from /api/hubs/{hub}/forecast.
import { api, el, serverNow, t, weekHour } from "./common.js";

const LEVEL = { "usually free": "free", "often busy": "often", "usually busy": "busy", "no data": "nodata" };
const LABEL_KEY = { free: "fc_free", often: "fc_often", busy: "fc_busy", nodata: "fc_nodata" };

/** zone id -> 7 x 24 cells {probability, level}; null if the forecast is unavailable. */
export async function loadForecast(hubId) {
  try {
    const report = await api(`/api/hubs/${hubId}/forecast`);
    const byZone = new Map();
    for (const zone of report.zones) {
      const grid = Array.from({ length: 7 }, () => Array(24).fill(null));
      for (const c of zone.cells) grid[c.weekday][c.hour] = { probability: c.probability, level: LEVEL[c.label] ?? "nodata" };
      byZone.set(zone.zone, grid);
    }
    return byZone;
  } catch {
    return null; // the live view works without a forecast
  }
}

/** The next `hours` local hours of the hub as bars: height = probability, fill pattern = level. */
export function forecastStrip(forecast, zone, hub, hours) {
  const grid = forecast?.get(zone.id);
  if (!grid) return null;
  const list = el("ol", { class: "fc-bars" });
  const now = serverNow();
  for (let i = 0; i < hours; i++) {
    const { day, hour } = weekHour(new Date(now + i * 3600_000), hub.timezone);
    const cell = grid[day]?.[hour] ?? { probability: null, level: "nodata" };
    const p = cell.probability ?? 0;
    const label = t("forecast_hour", { h: String(hour).padStart(2, "0"), label: t(LABEL_KEY[cell.level]) });
    list.append(el("li", { "data-level": cell.level, title: label },
      el("span", { class: "fc-track", "aria-hidden": "true" },
        el("span", { class: "fc-bar", style: `height:${Math.max(8, Math.round(p * 100))}%` })),
      el("span", { class: "fc-hour", "aria-hidden": "true", text: String(hour).padStart(2, "0") }),
      el("span", { class: "sr-only", text: label })));
  }
  return el("div", { class: "forecast" }, el("p", { class: "fc-title", text: t("forecast_title") }), list);
}
