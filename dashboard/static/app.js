// Minimal member view: zones of one hub, live from /api/stream.
const STATE = { free: "Ledig", occupied: "Upptagen", unknown: "Okänd" };
const zonesEl = document.getElementById("zones");
const hubEl = document.getElementById("hub");
let source = null;

function render(zone) {
  let li = document.getElementById("zone-" + zone.id);
  if (!li) {
    li = document.createElement("li");
    li.id = "zone-" + zone.id;
    zonesEl.appendChild(li);
  }
  li.dataset.state = zone.state;
  const desks = zone.free_desks === null ? "" : ` · ${zone.free_desks}/${zone.desks.length} lediga skrivbord`;
  li.innerHTML = `<strong></strong><div class="state"></div>`;
  li.querySelector("strong").textContent = zone.name;
  li.querySelector(".state").textContent = STATE[zone.state] + desks;
}

async function load(hub) {
  const zones = await (await fetch(`/api/hubs/${hub}/zones`)).json();
  zonesEl.innerHTML = "";
  zones.forEach(render);
  if (source) source.close();
  source = new EventSource(`/api/stream?hub=${hub}`);
  source.addEventListener("zone", (e) => render(JSON.parse(e.data)));
}

(async () => {
  const hubs = await (await fetch("/api/hubs")).json();
  for (const h of hubs) hubEl.add(new Option(h.name, h.id));
  hubEl.onchange = () => load(hubEl.value);
  if (hubs.length) load(hubs[0].id);
})();
