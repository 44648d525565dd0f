// --- Shop ---

// The purchase guide's request: my series at the page's instant, with what I own (none: free content).
function shopRequest() {
  const at = instant(state);
  if (!plan.series.length || !at) return null;
  const pairs = [["series_id", plan.series.join(",")], ...ownership({ free: false }), ...(state.from ? [["at", isoZ(at)]] : [])];
  return { at, query: qs(pairs) };
}

async function loadShop(mine) {
  const box = $("shop");
  const request = shopRequest();
  if (!request) {
    box.replaceChildren(el("p", "Add the series you race to your plan (Season view, “My series”): the shop shows what to buy for them."));
    status("shop", "ready", "No series in your plan yet.", { count: 0, query: "" });
    performance.mark("planner:first-rows", { detail: { view: "shop" } });
    return;
  }
  const { query } = request;
  status("shop", "loading", "Loading the purchase guide…", { query });
  let guide;
  let series;
  try {
    [guide, series] = await Promise.all([purchaseGuide(query), seriesList().catch(() => [])]);
  } catch (error) {
    if (mine !== generation) return;
    box.replaceChildren();
    status("shop", "error", `Could not load the purchase guide: ${error.message}`, { query });
    return;
  }
  if (mine !== generation) return;
  const names = new Map(series.map((s) => [s.series_id, s.series_name]));
  box.replaceChildren();
  box.appendChild(el("h3", "My series"));
  for (const s of guide.series) box.appendChild(guideSeries(s));
  if (guide.not_running.length) {
    box.appendChild(el("p", `Not running then: ${guide.not_running.map((id) => names.get(id) || `series ${id}`).join(", ")}.`, { class: "hint", id: "not-running" }));
  }
  box.appendChild(el("h3", "Track packages to buy"));
  box.appendChild(guidePackages(guide.packages));
  performance.mark("planner:first-rows", { detail: { view: "shop" } });
  status("shop", "ready", `${plural(guide.packages.length, "track package", "track packages")} would unlock weeks of your series.`,
    { count: guide.packages.length, query });
  performance.mark("planner:ready", { detail: { view: "shop" } });
}

function guideSeries(s) {
  const card = el("div", null, { class: "card guide-series", "data-series-id": s.series_id, "data-season-id": s.season_id });
  card.appendChild(el("h4", s.series_name || s.season_name || `Season ${s.season_id}`));
  card.appendChild(el("p", `You can race ${s.weeks_raceable} of ${s.weeks} weeks now; participation credit takes ${s.min_weeks}.`, { class: "weeks" }));
  const credit = card.appendChild(el("p", null, { class: "credit" }));
  if (s.credit_reachable) credit.appendChild(el("span", "✓ Participation credit is within reach with what you own.", { class: "yes" }));
  else if (s.credit_purchase) {
    const buy = s.credit_purchase.packages;
    credit.appendChild(el("span", `Participation credit for ${fmt.usd.format(s.credit_purchase.price)}: `
      + `${plural(buy.length, "package", "packages")}, then ${s.credit_purchase.weeks_raceable} weeks to race.`));
    const list = card.appendChild(el("details", null, { class: "purchase" }));
    list.appendChild(el("summary", "What to buy"));
    const items = list.appendChild(el("ul"));
    for (const p of buy) items.appendChild(el("li", `${p.name || `package ${p.package_id}`} (${price(p)})`));
  } else credit.appendChild(el("span", "No set of track packages and one car reaches participation credit.", { class: "lack" }));
  if (s.cars_missing.length) {
    const cars = s.cars_missing.slice(0, 4).map((p) => `${p.name || "a car"} (${price(p)})`);
    card.appendChild(el("p", `Some weeks race no car of yours: any one of ${cars.join(", ")}`
      + `${s.cars_missing.length > 4 ? ` or ${s.cars_missing.length - 4} more` : ""}.`, { class: "lack cars-missing" }));
  }
  return card;
}

function guidePackages(list) {
  if (!list.length) return el("p", "You lack no track package of your series' seasons.", { class: "yes" });
  const table = el("table", null, { class: "cards", id: "shop-packages" });
  table.appendChild(el("caption", "Track packages you lack, most weeks unlocked first", { class: "visually-hidden" }));
  const head = table.appendChild(el("thead")).appendChild(el("tr"));
  for (const name of ["Track package", "Price", "Weeks unlocked", "Which weeks"]) head.appendChild(el("th", name, { scope: "col" }));
  const body = table.appendChild(el("tbody"));
  for (const p of list) {
    const row = body.appendChild(el("tr", null, { "data-package-id": known(p.package_id) ? p.package_id : "" }));
    cell(row, p.name || `Track package ${p.package_id}`);
    cell(row, price(p), { "data-label": "Price", class: "price-cell" });
    cell(row, String(p.weeks_unlocked), { "data-label": "Weeks unlocked", class: "unlocked" });
    const weeks = p.weeks.map((w) => `${w.series_name || `series ${w.series_id}`} week ${w.race_week_num + 1}`);
    cell(row, weeks.join("; "), { "data-label": "Which weeks" });
  }
  return table;
}
