// --- Season ---

function weekWindow(week) {
  const start = week.start_date ? new Date(`${week.start_date}T00:00:00Z`) : week.first_start ? new Date(week.first_start) : null;
  if (!start) return null;
  const end = week.week_end_time ? new Date(week.week_end_time) : new Date(start.getTime() + 7 * 24 * HOUR_MS);
  return { from: start, to: end };
}

function needs(missing) {
  if (!missing) return "";
  const parts = [];
  if (missing.track_package) parts.push(`the track ${missing.track_package.name || "package"} (${price(missing.track_package)})`);
  const cars = missing.car_packages || [];
  if (cars.length) {
    const shown = cars.slice(0, 3).map((p) => `${p.name || "a car"} (${price(p)})`);
    parts.push(`a car: ${shown.join(" or ")}${cars.length > 3 ? ` or ${cars.length - 3} more` : ""}`);
  }
  return parts.length ? `Needs ${parts.join(" and ")}` : "";
}

// A week's hourly forecast, asked for when the box is first opened.
function forecastBox(season, week) {
  const box = el("details", null, { class: "forecast" });
  box.appendChild(el("summary", "Forecast"));
  box.addEventListener("toggle", async () => {
    if (!box.open || box.dataset.state) return;
    box.dataset.state = "loading";
    const path = `seasons/${season.season_id}/weeks/${week.race_week_num}/forecast`;
    const shown = box.appendChild(el("p", "Loading the forecast…"));
    let forecast;
    try {
      forecast = await cached(path, () => getJson(path));
    } catch (error) {
      shown.textContent = `No forecast: ${error.message}`;
      box.dataset.state = "error";
      return;
    }
    const list = el("ul", null, { class: "hours" });
    for (const hour of forecast.hours) list.appendChild(el("li", hourWords(hour)));
    shown.replaceWith(list);
    box.dataset.state = "ready";
  });
  return box;
}

// One keyframe: its time from the session's start, then what it brings.
function hourWords(h) {
  const offset = known(h.time_offset) ? h.time_offset : null;
  const at = offset === null ? "?" : `${offset < 0 ? "−" : "+"}${Math.floor(Math.abs(offset) / 60)}:${String(Math.abs(offset) % 60).padStart(2, "0")}`;
  const words = [known(h.air_temp_c) ? `${h.air_temp_c} °C` : null,
    known(h.precip_chance_pct) ? `rain ${h.precip_chance_pct}%` : null,
    known(h.cloud_cover_pct) ? `clouds ${h.cloud_cover_pct}%` : null,
    known(h.wind_speed_ms) ? `wind ${h.wind_speed_ms} m/s${known(h.wind_dir_deg) ? ` from ${h.wind_dir_deg}°` : ""}` : null];
  return `${at} · ${words.filter(known).join(", ")}`;
}

// A week's weather in a few words: its temperatures (°C) and its skies, from the grid's weather.
function weatherWords(w) {
  if (!w) return "";
  const low = known(w.temp_low_c) ? Math.round(w.temp_low_c) : null;
  const high = known(w.temp_high_c) ? Math.round(w.temp_high_c) : null;
  const temp = low === null && high === null ? null : low === high || low === null || high === null
    ? `${high === null ? low : high} °C` : `${low}–${high} °C`;
  return [temp, w.skies_high].filter(known).join(", ");
}

function weekRow(season, week, at) {
  const row = el("tr", null, { "data-season-id": season.season_id, "data-race-week-num": week.race_week_num });
  const span = weekWindow(week);
  const current = span && span.from <= at && at < span.to;
  if (current) { row.className = "now"; row.setAttribute("aria-current", "date"); }
  const head = cell(row, null, { class: "week" });
  const label = `Week ${week.race_week_num + 1}`;
  if (span && known(season.series_id)) {
    const hours = Math.max(1, Math.min(MAX_HOURS, Math.round((span.to - span.from) / HOUR_MS)));
    head.appendChild(el("a", label, { href: viewLink("races", { from: isoZ(span.from), hours, enter: false, mine: "all",
      filters: { series_id: [String(season.series_id)], category: [], license: [], car_id: [], track_id: [] } }),
      title: "This week's races" }));
  } else head.textContent = label;
  if (current) head.appendChild(el("span", "This week", { class: "badge" }));
  const last = span && new Date(span.to.getTime() - 1000);
  const [firstDay, lastDay] = span ? [fmt.date.format(span.from), fmt.date.format(last)] : [];
  cell(row, !span ? "—" : firstDay === lastDay ? firstDay : `${firstDay} – ${lastDay}`, { "data-label": "Dates" });
  cell(row, trackName(week), { "data-label": "Track" });
  carsCell(row, week.cars, { "data-label": "Cars" });
  const weather = cell(row, null, { "data-label": "Weather", class: "rain" });
  weather.appendChild(el("span", rain(week.rain_chance), { class: "chance" }));
  const sky = weatherWords(week.weather);
  if (sky) weather.appendChild(el("small", ` · ${sky}`));
  // iRacing publishes a week's hourly forecast when it runs or starts within 8 days (the sync's horizon).
  if (span && span.from - FORECAST_HORIZON_MS <= at && at < span.to) weather.appendChild(forecastBox(season, week));
  const you = cell(row, null, { "data-label": "You", class: "you" });
  if (week.enterable === true) you.appendChild(el("span", "✓ You can enter", { class: "yes" }));
  else if (week.enterable === false) you.appendChild(el("span", needs(week.missing) || "Not enterable", { class: "lack" }));
  else you.textContent = "—";
  return row;
}

function toggleSeries(seriesId, button) {
  const mineNow = plan.series.includes(seriesId);
  const series = mineNow ? plan.series.filter((id) => id !== seriesId) : [...plan.series, seriesId];
  setPlan({ ...plan, series }, { reload: false });
  for (const b of document.querySelectorAll(`button[data-series-id="${seriesId}"]`)) b.setAttribute("aria-pressed", String(!mineNow));
  if (button) button.focus();
}

function seasonBlock(season, at) {
  const section = el("section", null, { class: "season", "data-season-id": season.season_id, "data-series-id": season.series_id });
  const head = section.appendChild(el("header"));
  const id = `season-${season.season_id}`;
  head.appendChild(el("h3", season.series_name || season.season_name || `Season ${season.season_id}`, { id }));
  const meta = [LICENSE_NAMES.get(season.license) || (known(season.license) ? season.license : null),
    CATEGORY_NAMES.get(season.category) || season.category,
    known(season.enterable_weeks) ? `you can enter ${season.enterable_weeks} of ${season.weeks.length} weeks` : `${season.weeks.length} weeks`];
  head.appendChild(el("span", meta.filter(known).join(" · "), { class: "meta" }));
  if (known(season.series_id)) {
    const button = head.appendChild(el("button", "My series", { type: "button", "aria-pressed": String(plan.series.includes(season.series_id)),
      "data-series-id": season.series_id, "aria-describedby": id }));
    button.addEventListener("click", () => toggleSeries(season.series_id, button));
  }
  const table = section.appendChild(el("table", null, { class: "cards weeks", "aria-labelledby": id }));
  const headRow = table.appendChild(el("thead")).appendChild(el("tr"));
  for (const name of ["Week", "Dates", "Track", "Cars", "Weather", "You"]) headRow.appendChild(el("th", name, { scope: "col" }));
  const body = table.appendChild(el("tbody"));
  for (const week of season.weeks) body.appendChild(weekRow(season, week, at));
  return section;
}

function findSeasons() {
  const words = $("season-find").value.trim().toLowerCase();
  for (const section of $("seasons").querySelectorAll("section.season")) {
    section.hidden = Boolean(words) && !section.querySelector("h3").textContent.toLowerCase().includes(words);
  }
}

// The season grid's request: my series' seasons (or all, filtered) at the page's instant, with my content.
function seasonRequest() {
  const at = instant(state);
  if (!at) return null;
  const scope = state.scope || (plan.series.length ? "mine" : "all");
  if (scope === "mine" && !plan.series.length) return { at, scope, query: null };
  // Without a `from` the API's own instant (this hour's start) serves: every visitor of the hour asks one URL.
  const when = state.from ? [["at", isoZ(at)]] : [];
  const pairs = [...when, ...["category", "license"].flatMap((key) => state.filters[key].map((v) => [key, v]))];
  if (scope === "mine") pairs.push(["series_id", plan.series.join(",")]);
  pairs.push(...ownership());
  return { at, scope, query: qs(pairs) };
}

async function loadSeason(mine) {
  const request = seasonRequest();
  if (!request) {
    status("season", "error", `Could not read the start ${JSON.stringify(state.from)}: use an ISO 8601 instant.`);
    return;
  }
  const { at, scope, query } = request;
  const chosen = state.filters.category.length + state.filters.license.length;
  $("grid-filter-count").textContent = chosen ? `(${chosen} chosen)` : "";
  for (const radio of document.querySelectorAll("input[name=scope]")) radio.checked = radio.value === scope;
  for (const key of ["category", "license"]) {
    checkboxes($(`g-${key}`), `grid-${key}`, [{ items: key === "category" ? CATEGORIES : LICENSES }], state.filters[key], seasonChanged);
  }
  const box = $("seasons");
  if (!query) {
    box.replaceChildren();
    status("season", "ready", "You have no series in your plan yet: choose All series, then “My series” on the ones you race.",
      { count: 0, query: "" });
    performance.mark("planner:first-rows", { detail: { view: "season" } });
    return;
  }
  status("season", "loading", "Loading seasons…", { query });
  let grid;
  try {
    grid = await seasonGrid(query);
  } catch (error) {
    if (mine !== generation) return;
    box.replaceChildren();
    status("season", "error", `Could not load the seasons: ${error.message}`, { query });
    return;
  }
  if (mine !== generation) return;
  box.replaceChildren();
  const atDate = new Date(grid.at || isoZ(at));
  if (!(await inChunks(grid.seasons, mine, "season", (season) => box.appendChild(seasonBlock(season, atDate)), SEASON_CHUNKS))) return;
  findSeasons();
  const weeks = grid.seasons.reduce((n, s) => n + s.weeks.length, 0);
  status("season", "ready", grid.seasons.length ? `${plural(grid.seasons.length, "season", "seasons")} running on ${fmt.when.format(atDate)}, ${plural(weeks, "week", "weeks")}.`
    : "No season of these series runs at that time.", { count: grid.seasons.length, query });
  performance.mark("planner:ready", { detail: { view: "season" } });
}

function seasonChanged() {
  state.scope = (document.querySelector("input[name=scope]:checked") || { value: null }).value;
  for (const key of ["category", "license"]) state.filters[key] = checked($(`g-${key}`));
  writeLocation();
  load();
}
