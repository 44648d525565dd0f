// --- Races ---

function trackName(x) {
  return x.track_name ? [x.track_name, x.config_name].filter(known).join(" — ") : known(x.track_id) ? `Track ${x.track_id}` : "—";
}

function fillRaceFilters(base, series) {
  const racing = new Map();
  const cars = new Map();
  const tracks = new Map();
  for (const slot of base) {
    if (known(slot.series_id)) racing.set(String(slot.series_id), slot.series_name);
    for (const car of slot.cars || []) cars.set(String(car.car_id), car.car_name || `Car ${car.car_id}`);
    if (known(slot.track_id)) tracks.set(String(slot.track_id), trackName(slot));
  }
  const names = new Map((series || []).map((s) => [String(s.series_id), s.series_name]));
  const seriesName = (id) => names.get(id) || racing.get(id) || `Series ${id}`;
  const f = state.filters;
  // A shared link's choice this window does not offer stays shown (and chosen), by its ID.
  const extra = (key, have, label) => f[key].filter((v) => !have.has(v)).map((v) => [v, `${label} ${v}`]);
  const inWindow = [...racing.keys()].map((id) => [id, seriesName(id)]).sort(byLabel);
  const others = [...names.keys()].filter((id) => !racing.has(id)).map((id) => [id, seriesName(id)]).sort(byLabel);
  const seriesIds = new Set([...racing.keys(), ...names.keys()]);
  const lists = {
    category: [{ items: CATEGORIES }], license: [{ items: LICENSES }],
    series_id: [{ label: "Racing in this window", items: inWindow }, { label: "Not racing in this window", items: others },
      { items: extra("series_id", seriesIds, "Series") }],
    car_id: [{ items: [...cars].sort(byLabel) }, { items: extra("car_id", cars, "Car") }],
    track_id: [{ items: [...tracks].sort(byLabel) }, { items: extra("track_id", tracks, "Track") }],
  };
  for (const key of FILTERS) checkboxes($(`f-${key}`), key, lists[key], f[key], racesChanged);
  const mineOnly = state.mine === "only" && plan.series.length > 0;
  for (const box of $("f-series_id").querySelectorAll("input")) box.disabled = mineOnly;
}

// The filters as /slots takes them: "My series only" asks for my series; "Only races I can enter" adds ownership.
function raceQuery() {
  const f = state.filters;
  const pairs = [];
  for (const key of FILTERS) {
    const values = key === "series_id" && state.mine === "only" && plan.series.length ? plan.series.map(String) : f[key];
    for (const value of values) pairs.push([key, value]);
  }
  return state.enter ? [...pairs, ...ownership()] : pairs;
}

function raceSubscribe(span) {
  const chosen = state.filters.series_id;
  $("subscribe-hint").hidden = chosen.length > 0;
  $("subscribe-links").hidden = chosen.length === 0;
  if (!chosen.length) return;
  // The plan feed of the chosen series and the other filters. Without a `from` on the page it has no window of
  // its own, so the feed's default (from today) rolls on with time; a page started elsewhere (the 2025 demo
  // data) passes its start on, so the feed holds the races shown.
  const pairs = [...(state.from ? [["from", isoZ(span.from)]] : []),
    ...FILTERS.flatMap((key) => state.filters[key].map((value) => [key, value])), ...(state.enter ? ownership() : [])];
  feedLinks(pairs, $("subscribe"), $("feed"));
}

function cell(row, text, attrs) {
  return row.appendChild(el("td", text, attrs));
}

function carNames(cars) {
  return (cars || []).map((car) => car.car_name || `Car ${car.car_id}`);
}

function carsCell(row, cars, attrs) {
  const names = carNames(cars);
  const td = cell(row, names.length ? null : "—", attrs);
  if (names.length <= 3) { td.textContent = names.join(", ") || "—"; return td; }
  const details = td.appendChild(el("details"));
  details.appendChild(el("summary", `${names.length} cars`));
  details.appendChild(el("span", names.join(", ")));
  return td;
}

const rain = (chance) => (known(chance) ? `${chance}%` : "—");

function raceRow(slot, start, local) {
  const row = el("tr", null, { "data-season-id": slot.season_id, "data-race-week-num": slot.race_week_num,
    "data-start-time": slot.start_time, "data-local": local.iso });
  if (slot.super_session) row.className = "super";
  cell(row, null, { class: "time" }).appendChild(el("time", fmt.time.format(start), { datetime: slot.start_time }));
  cell(row, null, { class: "time" }).appendChild(el("time", fmt.utc.format(start), { datetime: slot.start_time }));
  const series = cell(row, slot.series_name || `Series ${slot.series_id}`);
  if (slot.super_session) series.appendChild(el("span", "Super session", { class: "badge" }));
  if (known(slot.race_week_num)) series.appendChild(el("small", ` · week ${slot.race_week_num + 1}`));
  cell(row, trackName(slot), { "data-label": "Track" });
  carsCell(row, slot.cars, { class: "col-cars", "data-label": "Cars" });
  const kind = [CATEGORY_NAMES.get(slot.category) || slot.category, known(slot.license) ? `License ${slot.license}` : null];
  cell(row, kind.filter(known).join(" · ") || "—", { class: "col-class" });
  const length = known(slot.race_laps) ? `${slot.race_laps} laps` : known(slot.race_minutes) ? `${slot.race_minutes} min` : "—";
  cell(row, length, { class: "col-length" });
  cell(row, rain(slot.rain_chance), { class: "col-rain", "data-label": "Rain" });
  const session = [known(slot.session_id) ? `Session ${slot.session_id}` : null,
    known(slot.entry_count) ? `${slot.entry_count} ${slot.entry_count === 1 ? "entry" : "entries"}` : null];
  cell(row, session.filter(known).join(" · ") || "—", { class: "col-session" });
  return row;
}

const COLUMNS = { cars: (s) => s.cars && s.cars.length, class: (s) => known(s.category) || known(s.license),
  length: (s) => known(s.race_laps) || known(s.race_minutes), rain: (s) => known(s.rain_chance),
  session: (s) => known(s.session_id) || known(s.entry_count) };

async function renderRaces(groups, mine) {
  const table = $("races");
  // The old rows are hidden now and removed after the first new ones are in: removing a thousand rows takes
  // tens of milliseconds.
  const old = [...table.tBodies];
  for (const body of old) body.hidden = true;
  const all = groups.flatMap((g) => g.slots);
  for (const [name, has] of Object.entries(COLUMNS)) table.classList.toggle(`no-${name}`, !all.some(has));
  const items = groups.flatMap((g) => [...(g.title ? [{ group: g.title, count: g.slots.length }] : []), ...g.slots]);
  let body = null;
  let day = null;
  return inChunks(items, mine, "races", (item) => {
    if (item.group) {
      body = table.appendChild(el("tbody", null, { class: "group" }));
      body.appendChild(el("tr")).appendChild(el("th", `${item.group} (${plural(item.count, "race", "races")})`,
        { scope: "rowgroup", colspan: 9, class: "group" }));
      day = null;
      return;
    }
    const start = new Date(item.start_time);
    const local = localParts(start);
    if (local.day !== day) {  // a new day in the browser's zone: its own row group under a heading
      day = local.day;
      body = table.appendChild(el("tbody"));
      body.appendChild(el("tr")).appendChild(el("th", fmt.day.format(start), { scope: "rowgroup", colspan: 9, class: "day" }));
    }
    body.appendChild(raceRow(item, start, local));
  }, undefined, () => { for (const body of old) body.remove(); });
}

// The Races view's requests: its window (whose races give the filters their choices) and the list (the window
// with the filters). Null when the start cannot be read.
function raceRequest() {
  const span = windowOf(state);
  if (!span) return null;
  const windowPairs = [["from", isoZ(span.from)], ["to", isoZ(span.to)]];
  const filters = raceQuery();
  return { span, windowPairs, filters, query: qs([...windowPairs, ...filters]) };
}

async function loadRaces(mine) {
  const request = raceRequest();
  if (!request) {
    status("races", "error", `Could not read the start ${JSON.stringify(state.from)}: use an ISO 8601 instant, e.g. 2025-09-09T12:00:00Z.`);
    return;
  }
  const { span, windowPairs, filters, query } = request;
  $("enter").checked = state.enter;
  for (const radio of document.querySelectorAll("input[name=mine]")) radio.checked = radio.value === state.mine;
  const chosen = FILTERS.reduce((n, key) => n + state.filters[key].length, 0);
  $("filter-count").textContent = chosen ? `(${chosen} chosen)` : "";
  raceSubscribe(span);
  status("races", "loading", "Loading races…", { query });
  const base = slotList(windowPairs);
  const list = slotList([...windowPairs, ...filters]);  // (the same answer as `base` without filters)
  const series = seriesList().catch(() => null);  // only names for the filters: the list does not wait on it
  let slots;
  try {
    slots = await list;
  } catch (error) {
    if (mine !== generation) return;
    await renderRaces([], mine);
    const names = await series;
    try { fillRaceFilters(await base, names); } catch (e) { /* the window itself failed: no choices */ }
    status("races", "error", `Could not load the races: ${error.message}`, { query });
    return;
  }
  if (mine !== generation) return;
  const mineFirst = state.mine === "first" && plan.series.length;
  const ours = new Set(plan.series);
  const groups = mineFirst ? [{ title: "My series", slots: slots.filter((s) => ours.has(s.series_id)) },
    { title: "Other series", slots: slots.filter((s) => !ours.has(s.series_id)) }] : [{ slots }];
  if (!(await renderRaces(groups, mine))) return;
  const [names, window] = [await series, await base.catch(() => [])];
  if (mine !== generation) return;
  fillRaceFilters(window, names);
  const range = `${fmt.when.format(span.from)} to ${fmt.when.format(span.to)}`;
  const count = slots.length === 1 ? "1 race" : `${slots.length.toLocaleString()} races`;
  const lonely = (state.mine !== "all" && !plan.series.length) ? " Add series to your plan in the Season view." : "";
  status("races", "ready", (slots.length ? `${count} from ${range} (${zone()}).` : `No races from ${range} with these filters.`) + lonely,
    { count: slots.length, query });
  performance.mark("planner:ready", { detail: { view: "races" } });
}

function racesChanged() {
  for (const key of FILTERS) {
    if (key === "series_id" && $("f-series_id").querySelector("input:disabled")) continue;
    state.filters[key] = checked($(`f-${key}`));
  }
  state.enter = $("enter").checked;
  state.mine = (document.querySelector("input[name=mine]:checked") || { value: "all" }).value;
  writeLocation();
  load();
}
