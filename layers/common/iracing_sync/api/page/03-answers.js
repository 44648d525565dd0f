// --- answers ---

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && body.error && body.error.message) || `HTTP ${response.status}`);
  return body;
}

function cached(key, make) {
  if (!answers.has(key)) {
    const promise = make();
    answers.set(key, promise);
    promise.catch(() => answers.delete(key));
  }
  return answers.get(key);
}

// Every page of /slots for a query (following next_cursor), in the API's order.
async function allSlots(pairs) {
  const slots = [];
  let cursor = null;
  do {
    const page = await getJson(`slots?${qs(cursor ? [...pairs, ["cursor", cursor]] : pairs)}`);
    for (const slot of page.slots) slots.push(slot);
    cursor = page.next_cursor;
  } while (cursor);
  return slots;
}

const seriesList = () => cached("series", () => getJson("series").then((b) => b.series));
const slotList = (pairs) => cached(`slots?${qs(pairs)}`, () => allSlots(pairs));
const seasonGrid = (query) => cached(`seasons?${query}`, () => getJson(`seasons?${query}`));
const purchaseGuide = (query) => cached(`purchase-guide?${query}`, () => getJson(`purchase-guide?${query}`));
const instant = (s) => (s.from ? parseInstant(s.from) : new Date(Math.floor(Date.now() / STEP_MS) * STEP_MS));

// The answers the view will show, asked for at once (the loaders take the same promises from `cached`).
function prefetch() {
  const quiet = (promise) => promise.catch(() => null);  // a failure is the view's loader's to report
  if (state.view === "races") {
    const request = raceRequest();
    if (request) {
      quiet(slotList(request.windowPairs));
      quiet(slotList([...request.windowPairs, ...request.filters]));
    }
    quiet(seriesList());
  } else if (state.view === "season") {
    const request = seasonRequest();
    if (request && request.query) quiet(seasonGrid(request.query));
  } else if (state.view === "shop") {
    const request = shopRequest();
    if (request) quiet(purchaseGuide(request.query));
    quiet(seriesList());
  } else quiet(catalog());
}

function status(view, phase, text, extra) {
  const node = $("status");
  node.textContent = text;
  node.dataset.view = view;
  node.dataset.state = phase;
  node.dataset.query = (extra && extra.query) || "";
  node.dataset.count = extra && known(extra.count) ? String(extra.count) : "";
}

function windowOf(s) {
  const start = s.from ? parseInstant(s.from) : new Date(Math.floor(Date.now() / STEP_MS) * STEP_MS);
  return start && { from: start, to: new Date(start.getTime() + s.hours * HOUR_MS) };
}

// Each item put into the page by `put`, in chunks (see FIRST_ROWS); `cleanup` runs in the task after the first
// chunk's. False if a newer load began meanwhile.
async function inChunks(items, mine, view, put, [first, chunk] = [FIRST_ROWS, CHUNK_ROWS], cleanup = null) {
  let done = 0;
  let size = first;
  do {
    for (const item of items.slice(done, done + size)) put(item);
    if (!done) {
      performance.mark("planner:first-rows", { detail: { view } });
      if (cleanup) {
        await nextTask();
        cleanup();
      }
    }
    done += size;
    size = chunk;
    if (done < items.length) await nextTask();
    if (mine !== generation) return false;
  } while (done < items.length);
  return true;
}
