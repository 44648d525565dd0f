// --- ID lists in the link: "12,15-18" is 12, 15, 16, 17, 18 (a collection of 300 IDs takes about 600 chars) ---

function packIds(ids) {
  const sorted = [...new Set(ids)].sort(byNumber);
  const out = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j;
  }
  return out.join(",");
}

function unpackIds(text) {
  const ids = new Set();
  for (const token of (text || "").split(",")) {
    const m = /^\s*(\d{1,9})(?:-(\d{1,9}))?\s*$/.exec(token);
    if (!m) continue;
    const [a, b] = [Number(m[1]), Number(m[2] || m[1])];
    for (let id = a; id <= b && ids.size < MAX_IDS; id++) ids.add(id);
  }
  return ids;
}
