// Constants, formatters and small helpers every view uses.
const VIEWS = ["races", "season", "content", "shop"];
const FILTERS = ["series_id", "category", "license", "car_id", "track_id"];
const CATEGORIES = [["oval", "Oval"], ["road", "Road (all)"], ["sports_car", "Sports car"],
  ["formula_car", "Formula car"], ["dirt_oval", "Dirt oval"], ["dirt_road", "Dirt road"]];
const LICENSES = [["R", "Rookie"], ["D", "Class D"], ["C", "Class C"], ["B", "Class B"], ["A", "Class A"]];
const CATEGORY_NAMES = new Map(CATEGORIES);
const LICENSE_NAMES = new Map(LICENSES);
// Without a `from`, the window starts at now floored to 5 minutes: every visitor in those 5 minutes asks the
// same URLs, so a cache in front of the API (their max-age is 300 s) answers all but the first.
const STEP_MS = 5 * 60 * 1000;
const HOUR_MS = 3600 * 1000;
const MAX_HOURS = 168;
const FORECAST_HORIZON_MS = 8 * 24 * HOUR_MS;
const STORE_KEY = "iracing-sync.plan";
const MAX_IDS = 5000;  // what a link's ID list may expand to (a member owns a few hundred; the API takes 500)
// Rows go into the page in chunks: the first ones at once, the rest a chunk per task, so the page answers input.
const FIRST_ROWS = 60;
const CHUNK_ROWS = 250;
const SEASON_CHUNKS = [4, 20];  // seasons (a dozen rows each)
const $ = (id) => document.getElementById(id);
// Formatters, made once the first requests are on their way (making them takes tens of milliseconds).
const FORMATS = {
  day: () => new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" }),
  time: () => new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" }),
  when: () => new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }),
  utc: () => new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "UTC" }),
  date: () => new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }),
  usd: () => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }),
  // Machine-readable local time: the zone's offset is looked up for each instant, so DST changes fall right.
  parts: () => new Intl.DateTimeFormat("en-US", { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", hourCycle: "h23", timeZoneName: "longOffset" }),
};
const fmt = {};
for (const [name, make] of Object.entries(FORMATS)) {
  Object.defineProperty(fmt, name, { get() { const made = make(); Object.defineProperty(fmt, name, { value: made }); return made; },
    configurable: true });
}
const zone = () => fmt.day.resolvedOptions().timeZone || "local time";
const answers = new Map();  // path -> promise of its JSON body, for the page's life
let generation = 0;

const el = (tag, text, attrs) => {
  const node = document.createElement(tag);
  if (text != null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
};
const isoZ = (date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");
const known = (value) => value !== undefined && value !== null && value !== "";
const byLabel = (a, b) => a[1].localeCompare(b[1]);
const byNumber = (a, b) => a - b;
const plural = (n, one, many) => `${n.toLocaleString()} ${n === 1 ? one : many}`;
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));
// A query string with its commas as they are (a comma-joined list stays a third as long as with %2C).
const qs = (pairs) => new URLSearchParams(pairs).toString().replace(/%2C/gi, ",");
// iRacing's price as it displays it; from the price alone (US dollars) where an answer carries no display.
// Content with neither (retired content, price 0) is not on sale.
const price = (p) => (p && p.free ? "free" : p && known(p.price_display) ? p.price_display
  : p && p.price > 0 ? fmt.usd.format(p.price) : "not on sale");

// An ISO 8601 instant as the API reads it: a bare date is midnight UTC, a time without an offset is UTC.
function parseInstant(text) {
  let s = text.trim().replace(" ", "T");
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) s += "T00:00:00Z";
  else if (!/([Zz]|[+-]\d{2}:\d{2})$/.test(s)) s += "Z";
  const date = new Date(s);
  return Number.isNaN(date.getTime()) ? null : date;
}

function localParts(date) {
  const p = Object.fromEntries(fmt.parts.formatToParts(date).map((x) => [x.type, x.value]));
  const offset = p.timeZoneName === "GMT" ? "+00:00" : p.timeZoneName.replace("GMT", "");
  return { day: `${p.year}-${p.month}-${p.day}`, iso: `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}${offset}` };
}
