// --- checkbox filters (no Ctrl-click: each choice is a checkbox, several mean any of them) ---

function checkboxes(container, name, groups, chosen, onChange) {
  const selected = new Set(chosen);
  const signature = JSON.stringify(groups);
  if (container.dataset.signature !== signature) {  // rebuilt only when the choices change: focus stays put
    container.dataset.signature = signature;
    container.replaceChildren();
    for (const group of groups) {
      if (!group.items.length) continue;
      if (group.label) container.appendChild(el("p", group.label, { class: "sub" }));
      for (const [value, label] of group.items) {
        const box = el("input", null, { type: "checkbox", name, value });
        box.addEventListener("change", onChange);
        const row = container.appendChild(el("label"));
        row.append(box, el("span", label));
      }
    }
  }
  for (const box of container.querySelectorAll("input")) box.checked = selected.has(box.value);
}

const checked = (container) => [...container.querySelectorAll("input:checked")].map((box) => box.value);

function finder(input) {
  input.addEventListener("input", () => {
    const words = input.value.trim().toLowerCase();
    for (const label of $(input.dataset.finds).querySelectorAll("label")) {
      label.hidden = Boolean(words) && !label.textContent.toLowerCase().includes(words) && !label.querySelector("input:checked");
    }
  });
}
