// --- My content ---

const catalog = () => cached("catalog", async () => {
  const [cars, tracks] = await Promise.all([getJson("cars"), getJson("tracks")]);
  return { cars: packages(cars.cars, "car_id", (c) => c.car_name),
    tracks: packages(tracks.tracks, "track_id", (t) => t.track_name) };
});

// Items sharing a package_id are one package (what a racer buys and owns); an item without one is its own.
function packages(items, idKey, nameOf) {
  const by = new Map();
  for (const item of items) {
    const key = known(item.package_id) ? `p${item.package_id}` : `i${item[idKey]}`;
    if (!by.has(key)) by.set(key, { key, names: new Set(), ids: [], free: false, price_display: null, price: null, retired: true });
    const p = by.get(key);
    p.names.add(nameOf(item) || `#${item[idKey]}`);
    p.ids.push(item[idKey]);
    p.free = p.free || Boolean(item.free_with_subscription);
    p.price_display = p.price_display || item.price_display;
    p.price = known(p.price) ? p.price : item.price;
    p.retired = p.retired && Boolean(item.retired);
  }
  const list = [...by.values()].map((p) => ({ ...p, name: [...p.names].join(" / ") }));
  // By name, a "[Legacy]" or "[Retired]" one beside the current one it follows; retired ones last.
  const plain = (name) => name.replace(/^\[[^\]]*\]\s*/, "");
  return list.sort((a, b) => (a.retired - b.retired) || plain(a.name).localeCompare(plain(b.name)) || a.name.localeCompare(b.name));
}

function packageList(container, list, owned, kind) {
  container.replaceChildren();
  for (const p of list) {
    const mine = p.free || p.ids.some((id) => owned.has(id));
    const label = container.appendChild(el("label", null, { "data-package": p.key, class: p.free ? "free" : "" }));
    const box = label.appendChild(el("input", null, { type: "checkbox", value: p.ids.join(",") }));
    box.checked = mine;
    box.disabled = p.free;  // free content is everyone's: ticked and locked
    label.append(el("span", p.name), el("span", p.free ? "Free" : price(p), { class: "price" }));
    box.addEventListener("change", () => {
      const next = new Set(kind === "cars" ? plan.cars : plan.tracks);
      for (const id of p.ids) if (box.checked) next.add(id); else next.delete(id);
      setPlan({ ...plan, [kind]: next }, { reload: false });  // (the lists stay: the focus stays on the box)
      contentSummary(null);
    });
  }
}

let lastCatalog = null;

function contentSummary(cat) {
  cat = cat || lastCatalog;
  if (!cat) return;
  const count = (list, owned) => list.filter((p) => !p.free && p.ids.some((id) => owned.has(id))).length;
  const free = (list) => list.filter((p) => p.free).length;
  $("content-summary").textContent = `You own ${plural(count(cat.cars, plan.cars), "car package", "car packages")} and `
    + `${plural(count(cat.tracks, plan.tracks), "track package", "track packages")}; `
    + `${free(cat.cars)} car and ${free(cat.tracks)} track packages come free with the subscription.`;
  const listed = (list) => new Set(list.flatMap((p) => p.ids));
  const carIds = listed(cat.cars);
  const trackIds = listed(cat.tracks);
  const strays = [[...plan.cars].filter((id) => !carIds.has(id)), [...plan.tracks].filter((id) => !trackIds.has(id))];
  $("content-extra").hidden = !strays[0].length && !strays[1].length;
  $("content-extra").textContent = `Your plan also holds ${plural(strays[0].length, "car", "cars")} and `
    + `${plural(strays[1].length, "track configuration", "track configurations")} this catalog does not list `
    + `(kept as imported: car IDs ${strays[0].join(", ") || "none"}; track IDs ${strays[1].join(", ") || "none"}).`;
}

async function loadContent(mine) {
  status("content", "loading", "Loading the cars and tracks…", { query: "" });
  let cat;
  try {
    cat = await catalog();
  } catch (error) {
    if (mine === generation) status("content", "error", `Could not load the cars and tracks: ${error.message}`);
    return;
  }
  if (mine !== generation) return;
  lastCatalog = cat;
  packageList($("car-packages"), cat.cars, plan.cars, "cars");
  packageList($("track-packages"), cat.tracks, plan.tracks, "tracks");
  performance.mark("planner:first-rows", { detail: { view: "content" } });
  contentSummary(cat);
  findContent();
  status("content", "ready", `${plural(cat.cars.length, "car package", "car packages")} and ${plural(cat.tracks.length, "track package", "track packages")}.`,
    { count: cat.cars.length + cat.tracks.length, query: "" });
  performance.mark("planner:ready", { detail: { view: "content" } });
}

function findContent() {
  const words = $("content-find").value.trim().toLowerCase();
  for (const label of document.querySelectorAll(".packages label")) {
    label.hidden = Boolean(words) && !label.textContent.toLowerCase().includes(words);
  }
}

// member/info's ownership: car_packages and track_packages, each [{package_id, content_ids}].
function importMemberInfo() {
  const result = $("import-result");
  let body;
  try {
    body = JSON.parse($("import-json").value);
  } catch (error) {
    result.textContent = `That is not JSON: ${error.message}`;
    return;
  }
  const ids = (key) => {
    const list = body && body[key];
    if (!Array.isArray(list)) throw new Error(`it has no ${key} list (is it member/info?)`);
    return { packages: list.length, ids: new Set(list.flatMap((p) => (Array.isArray(p && p.content_ids) ? p.content_ids : []))
      .map(Number).filter(Number.isInteger)) };
  };
  let cars;
  let tracks;
  try {
    [cars, tracks] = [ids("car_packages"), ids("track_packages")];
  } catch (error) {
    result.textContent = `Could not import: ${error.message}`;
    return;
  }
  setPlan({ ...plan, cars: cars.ids, tracks: tracks.ids });
  result.textContent = `Imported ${plural(cars.packages, "car package", "car packages")} (${plural(cars.ids.size, "car", "cars")}) and `
    + `${plural(tracks.packages, "track package", "track packages")} (${plural(tracks.ids.size, "configuration", "configurations")}).`;
}
