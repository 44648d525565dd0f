// --- the view's state (the URL fragment) and the plan (localStorage, and the fragment) ---
// The fragment never reaches the server, so every view is one cached copy of `/` (CloudFront keys on the query),
// and a plan of hundreds of IDs is no concern of any server's URL limit.

const state = { view: "races", from: null, hours: 24, filters: {}, enter: false, mine: "all", scope: null };
for (const key of FILTERS) state.filters[key] = [];
let plan = { series: [], cars: new Set(), tracks: new Set() };
const PARAMS = {
  races: ["from", "hours", ...FILTERS, "enter", "mine"],
  season: ["from", "category", "license", "scope"],
  content: [],
  shop: ["from"],
};

function readLocation() {
  const hash = location.hash.replace(/^#/, "");
  const cut = hash.indexOf("?");
  let view = cut < 0 ? hash : hash.slice(0, cut);
  // The page's query parameters of old (`/?from=..&series_id=..`) open the Races view they describe.
  const q = new URLSearchParams(hash ? (cut < 0 ? "" : hash.slice(cut + 1)) : location.search);
  if (!VIEWS.includes(view)) view = "races";
  const list = (key) => q.getAll(key).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(known);
  const hours = Math.round(Number(q.get("hours")));
  const read = {
    from: q.get("from") || null,
    hours: hours >= 1 && hours <= MAX_HOURS ? hours : 24,
    enter: q.get("enter") === "1",
    mine: ["first", "only"].includes(q.get("mine")) ? q.get("mine") : "all",
    scope: ["mine", "all"].includes(q.get("scope")) ? q.get("scope") : null,
  };
  for (const key of FILTERS) read[key] = list(key);
  const linked = ["my", "cars", "tracks"].some((key) => q.has(key)) ? {
    series: [...new Set(list("my").map(Number).filter(Number.isInteger))],
    cars: unpackIds(q.get("cars")), tracks: unpackIds(q.get("tracks")) } : null;
  return { view, read, linked };
}

function fragment(view, s) {
  const pairs = [];
  const keys = PARAMS[view];
  if (keys.includes("from") && s.from) pairs.push(["from", s.from]);
  if (keys.includes("hours") && s.hours !== 24) pairs.push(["hours", s.hours]);
  for (const key of FILTERS) if (keys.includes(key) && s.filters[key].length) pairs.push([key, s.filters[key].join(",")]);
  if (keys.includes("enter") && s.enter) pairs.push(["enter", "1"]);
  if (keys.includes("mine") && s.mine !== "all") pairs.push(["mine", s.mine]);
  if (keys.includes("scope") && s.scope) pairs.push(["scope", s.scope]);
  if (plan.series.length) pairs.push(["my", plan.series.join(",")]);
  if (plan.cars.size) pairs.push(["cars", packIds(plan.cars)]);
  if (plan.tracks.size) pairs.push(["tracks", packIds(plan.tracks)]);
  const encode = (v) => encodeURIComponent(String(v)).replace(/%2C/g, ",").replace(/%3A/g, ":");
  return `#${view}${pairs.length ? "?" : ""}${pairs.map(([k, v]) => `${k}=${encode(v)}`).join("&")}`;
}

const viewLink = (view, changes) => fragment(view, { ...state, ...changes,
  filters: { ...state.filters, ...(changes && changes.filters) } });

function writeLocation() {
  history.replaceState(null, "", location.pathname + fragment(state.view, state));
  for (const view of VIEWS) {
    const link = $(`nav-${view}`);
    link.href = viewLink(view);
    if (view === state.view) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  $("plan-link").href = location.href;
}

const planKey = (p) => `${p.series.join(",")}|${packIds(p.cars)}|${packIds(p.tracks)}`;
const emptyPlan = (p) => !p.series.length && !p.cars.size && !p.tracks.size;

function storedPlan() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    if (saved && saved.version === 1) {
      const ints = (xs) => (Array.isArray(xs) ? xs.map(Number).filter(Number.isInteger) : []);
      return { series: [...new Set(ints(saved.series))], cars: new Set(ints(saved.cars)), tracks: new Set(ints(saved.tracks)) };
    }
  } catch (error) { /* unreadable or blocked storage: start empty */ }
  return { series: [], cars: new Set(), tracks: new Set() };
}

function savePlan() {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify({ version: 1, series: plan.series,
      cars: [...plan.cars].sort(byNumber), tracks: [...plan.tracks].sort(byNumber) }));
  } catch (error) {
    notice("This browser does not let the page keep your plan: use the plan's link to come back to it.");
  }
}

function setPlan(next, { reload = true } = {}) {
  plan = next;
  savePlan();
  writeLocation();
  showPlan();
  if (reload) load();
}

function notice(text, action) {
  const node = $("notice");
  node.replaceChildren(el("span", text));
  if (action) {
    const button = node.appendChild(el("button", action.label, { type: "button" }));
    button.addEventListener("click", () => { node.replaceChildren(); action.run(); });
  }
}

// What the API's ownership parameters say of the plan: the owned car and track IDs, or free content alone.
function ownership({ free = true } = {}) {
  const pairs = [];
  if (plan.cars.size) pairs.push(["owned_car_id", [...plan.cars].sort(byNumber).join(",")]);
  if (plan.tracks.size) pairs.push(["owned_track_id", [...plan.tracks].sort(byNumber).join(",")]);
  return pairs.length || !free ? pairs : [["content", "free"]];
}

function feedLinks(pairs, subscribe, feed) {
  const url = new URL(`calendar.ics?${qs(pairs)}`, location.href).href;
  feed.href = url;
  subscribe.href = url.replace(/^https?:/, "webcal:");
}

function showPlan() {
  const parts = [plural(plan.series.length, "series", "series"),
    `${plural(plan.cars.size, "car", "cars")} and ${plural(plan.tracks.size, "track", "tracks")} owned`];
  $("plan-summary").textContent = emptyPlan(plan)
    ? "Your plan is empty: tick what you own in My content, and mark your series (“My series”) in Season."
    : `Your plan: ${parts.join(", ")}.`;
  const has = plan.series.length > 0;
  $("plan-subscribe").hidden = !has;
  $("plan-feed").hidden = !has;
  if (!has) return;
  // The plan feed: exactly the races of my series I can enter. A page started elsewhere (the 2025 demo data)
  // passes its start on, so the feed holds the races shown; otherwise the feed's window rolls on with time.
  const span = windowOf(state);
  const pairs = [...(state.from && span ? [["from", isoZ(span.from)]] : []), ["series_id", plan.series.join(",")], ...ownership()];
  feedLinks(pairs, $("plan-subscribe"), $("plan-feed"));
}
