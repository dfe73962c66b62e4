// The 7 x 24 hour-of-week heatmap as SVG: colour AND the percentage printed in each cell.
import { el, percent, t } from "./common.js";

// ColorBrewer "Greens" (sequential, colour-blind safe); text colour flips on dark cells.
const STOPS = ["#f7fcf5", "#c7e9c0", "#74c476", "#238b45", "#00441b"];

function rgbOf(v) {
  const x = Math.min(Math.max(v, 0), 1) * (STOPS.length - 1);
  const i = Math.min(Math.floor(x), STOPS.length - 2);
  const f = x - i;
  const rgb = (hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
  const [a, b] = [rgb(STOPS[i]), rgb(STOPS[i + 1])];
  return a.map((c, k) => Math.round(c + (b[k] - c) * f));
}

function colour(v) {
  return `rgb(${rgbOf(v).join(",")})`;
}

/** Black or white, whichever contrasts more with the cell (both give >= 4.5:1 on this scale). */
function textColour(v) {
  const lin = (c) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
  const [r, g, b] = rgbOf(v).map(lin);
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 0.179 ? "#000000" : "#ffffff";
}

/** Whole-hub grid from per-zone grids: occupied time over known time, pooled over zones. */
export function hubHeatmap(zones) {
  const grid = Array.from({ length: 7 }, () => Array(24).fill(null));
  for (let d = 0; d < 7; d++) {
    for (let h = 0; h < 24; h++) {
      let known = 0;
      let occupied = 0;
      for (const z of zones) {
        const share = z.share[d][h];
        const k = (z.data_quality[d][h] ?? 0) * (z.open_hours[d][h] ?? 0);
        if (share === null || k <= 0) continue;
        known += k;
        occupied += share * k;
      }
      grid[d][h] = known > 0 ? occupied / known : null;
    }
  }
  return grid;
}

export function heatmapSvg(svg, grid, title) {
  const cw = 34;
  const ch = 26;
  const left = 44;
  const top = 22;
  const days = t("weekdays");
  svg.setAttribute("viewBox", `0 0 ${left + 24 * cw + 2} ${top + 7 * ch + 2}`);
  svg.setAttribute("aria-label", title);
  const parts = [el("title", { text: title })];
  const defs = el("defs");
  defs.innerHTML = '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    + '<rect width="6" height="6" fill="#f1f1ee"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c9c9c2" stroke-width="2"/></pattern>';
  parts.push(defs);
  for (let h = 0; h < 24; h++) {
    parts.push(el("text", { x: left + h * cw + cw / 2, y: top - 7, "text-anchor": "middle", text: String(h).padStart(2, "0") }));
  }
  for (let d = 0; d < 7; d++) {
    const y = top + d * ch;
    parts.push(el("text", { x: left - 6, y: y + ch / 2 + 4, "text-anchor": "end", text: days[d] }));
    for (let h = 0; h < 24; h++) {
      const v = grid[d][h];
      const x = left + h * cw;
      const label = `${days[d]} ${String(h).padStart(2, "0")}: ${v === null ? t("heatmap_closed") : percent(v)}`;
      const cell = el("g", { class: "cell", "data-day": d, "data-hour": h },
        el("rect", { x: x + 1, y: y + 1, width: cw - 2, height: ch - 2, rx: 3,
          class: v === null ? "nocell" : null, fill: v === null ? null : colour(v) }),
        el("title", { text: label }));
      if (v !== null) {
        cell.append(el("text", { x: x + cw / 2, y: y + ch / 2 + 4, "text-anchor": "middle",
          fill: textColour(v), text: String(Math.round(v * 100)) }));
      }
      parts.push(cell);
    }
  }
  svg.replaceChildren(...parts);
  const legend = [0, 0.25, 0.5, 0.75, 1].map((v) =>
    el("span", {}, el("span", { class: "swatch", style: `background:${colour(v)}` }), ` ${Math.round(v * 100)} %`));
  legend.push(el("span", {}, el("span", { class: "swatch hatch-swatch" }), ` ${t("heatmap_closed")}`));
  return { svg, legend };
}
