// --- the views ---

const LOADERS = { races: loadRaces, season: loadSeason, content: loadContent, shop: loadShop };

function load() {
  const mine = ++generation;
  showPlan();
  return LOADERS[state.view](mine);
}

function show(view, focus) {
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
  $("when").hidden = view === "content";
  $("hours-field").hidden = view !== "races";
  const span = windowOf(state);
  $("from").value = span ? localParts(span.from).iso.slice(0, 16) : "";
  if (![...$("hours").options].some((o) => o.value === String(state.hours))) {
    $("hours").appendChild(el("option", `${state.hours} hours`, { value: state.hours }));  // a shared link's own
  }
  $("hours").value = String(state.hours);
  document.title = `${$(`${view}-heading`).textContent} · Planner · iracing-sync`;
  if (focus) $(`${view}-heading`).focus();
}

// The URL's view into `state`; a plan in the link replaces the one in memory (start/route save it).
function takeLocation() {
  const { view, read, linked } = readLocation();
  state.view = view;
  for (const key of PARAMS[view]) {
    if (FILTERS.includes(key)) state.filters[key] = read[key];
    else state[key] = read[key];
  }
  if (linked && planKey(linked) !== planKey(plan)) plan = linked;
}

function route(focus, before) {
  if (planKey(before) !== planKey(plan)) {
    savePlan();
    if (!emptyPlan(before)) {
      notice("This link's plan replaced yours.", { label: "Keep mine instead", run: () => setPlan(before) });
    }
  }
  writeLocation();  // the plan always travels in the link; the old query parameters become the fragment
  show(state.view, focus);
  load();
}

// The first answers are asked for while the page is still being parsed: the view's data does not wait on it.
plan = storedPlan();
const stored = plan;
takeLocation();
prefetch();
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();

// Once the page is parsed: its controls wired, the first view shown.
function start() {
  $("zone").textContent = zone();
  for (const input of document.querySelectorAll("input[data-finds]")) finder(input);
  $("enter").addEventListener("change", racesChanged);
  for (const radio of document.querySelectorAll("input[name=mine]")) radio.addEventListener("change", racesChanged);
  for (const radio of document.querySelectorAll("input[name=scope]")) radio.addEventListener("change", seasonChanged);
  $("season-find").addEventListener("input", findSeasons);
  $("content-find").addEventListener("input", findContent);
  $("import").addEventListener("click", importMemberInfo);
  $("copy-link").addEventListener("click", () => {
    const done = () => notice("The link to this view and your plan is copied: open it anywhere to see the same.");
    const fail = () => notice("Copy this page's address: it holds this view and your plan.");
    if (navigator.clipboard) navigator.clipboard.writeText(location.href).then(done, fail); else fail();
  });
  $("content-clear").addEventListener("click", () => setPlan({ ...plan, cars: new Set(), tracks: new Set() }));
  $("hours").addEventListener("change", () => { state.hours = Number($("hours").value); writeLocation(); load(); });
  $("from").addEventListener("change", () => {
    const picked = $("from").value ? new Date($("from").value) : null; // datetime-local is the browser's zone
    state.from = picked && !Number.isNaN(picked.getTime()) ? isoZ(picked) : null;
    writeLocation();
    load();
  });
  $("now").addEventListener("click", () => { state.from = null; writeLocation(); show(state.view); load(); });
  $("clear").addEventListener("click", () => {
    for (const key of FILTERS) state.filters[key] = [];
    writeLocation();
    load();
  });
  $("filter-panel").open = FILTERS.some((key) => state.filters[key].length > 0);  // closed: the races show first
  $("grid-filters").open = state.filters.category.length + state.filters.license.length > 0;
  window.addEventListener("hashchange", () => {
    const before = plan;
    takeLocation();
    prefetch();
    route(true, before);
  });
  route(false, stored);
}
