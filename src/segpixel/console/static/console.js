// segpixel console: small progressive enhancements. Every page works without this file; with it,
// forms switch tabs and type panels in place, rows are added without a round trip, selections are
// counted, tags are copied, and the pixel tester calls the pixel server.
"use strict";

function el(tag, attrs, ...children) {
  // Text always goes in as text nodes: nothing from the server or the user becomes markup.
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function setupTabs(form) {
  const tabs = form.querySelector(".tabs");
  if (!tabs) return;
  const buttons = [...tabs.querySelectorAll("[role=tab]")];
  const show = (name) => {
    for (const button of buttons) {
      const on = button.dataset.tab === name;
      button.setAttribute("aria-selected", String(on));
      button.tabIndex = on ? 0 : -1;
      form.querySelector(`[data-panel="${button.dataset.tab}"]`).hidden = !on;
    }
  };
  buttons.forEach((button) => button.addEventListener("click", () => show(button.dataset.tab)));
  tabs.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const i = buttons.indexOf(document.activeElement);
    const next = buttons[(i + (event.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length];
    next.focus();
    show(next.dataset.tab);
  });
  tabs.classList.add("ready");
  show(form.dataset.tabs || "details");
  const invalid = form.querySelector(`[data-panel="${form.dataset.tabs}"] [aria-invalid=true]`);
  if (invalid) invalid.focus();
}

function setupTypePanels(form) {
  const choices = [...form.querySelectorAll("[data-type-choice]")];
  if (!choices.length) return;
  const valueType = form.querySelector("[data-value-type]");
  const textValues = form.querySelector("[data-text-values]");
  const update = () => {
    const chosen = (choices.find((c) => c.checked) || choices[0]).value;
    for (const panel of form.querySelectorAll("[data-type-panel]")) {
      panel.hidden = panel.dataset.typePanel !== chosen;
    }
    if (valueType && textValues) textValues.hidden = valueType.value !== "text";
  };
  choices.forEach((c) => c.addEventListener("change", update));
  if (valueType) valueType.addEventListener("change", update);
  update();
}

function setupExpire(form) {
  const custom = form.querySelector("#expire_custom");
  if (!custom) return;
  for (const field of form.querySelectorAll("[data-expire-field]")) {
    field.addEventListener("focus", () => { custom.checked = true; });
  }
}

function setupCodeHint(form) {
  const input = form.querySelector("[data-code-input]");
  const hint = form.querySelector("[data-code-hint]");
  if (!input || !hint) return;
  const check = () => {
    const bad = [...new Set(input.value.replace(/[A-Za-z0-9_-]/g, ""))];
    if (bad.length) {
      const shown = bad.map((ch) => (ch === " " ? "a space" : `'${ch}'`)).join(", ");
      hint.textContent = `Not allowed in a code: ${shown}. Use letters, digits, _ and - only.`;
    } else if (input.value.length > 50) {
      hint.textContent = `A code has at most 50 characters (this one has ${input.value.length}).`;
    } else {
      hint.textContent = "";
    }
  };
  input.addEventListener("input", check);
}

function setupPiggybacks(form) {
  const rows = form.querySelector("[data-pb-rows]");
  const template = form.querySelector("#pb-row-template");
  const add = form.querySelector("[data-add-row]");
  if (!rows || !template || !add) return;
  let counter = rows.querySelectorAll("[data-pb-row]").length;
  add.addEventListener("click", (event) => {
    event.preventDefault(); // without this script the button asks the server for a new row
    const row = template.content.firstElementChild.cloneNode(true);
    const n = counter++;
    const [urlLabel, typeLabel] = row.querySelectorAll("label");
    const url = row.querySelector("input");
    const type = row.querySelector("select");
    url.id = `pb-${n}-url`;
    type.id = `pb-${n}-type`;
    urlLabel.htmlFor = url.id;
    typeLabel.htmlFor = type.id;
    rows.append(row);
    url.focus();
  });
  rows.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-row]");
    if (!button) return;
    const row = button.closest("[data-pb-row]");
    if (rows.querySelectorAll("[data-pb-row]").length > 1) {
      row.remove();
    } else {
      row.querySelector("input").value = ""; // keep one empty row to type into
      for (const error of row.querySelectorAll(".field-error")) error.remove();
    }
  });
}

function setupSelection() {
  const table = document.querySelector("[data-selectable]");
  const button = document.querySelector("[data-needs-selection]");
  if (!table || !button) return;
  const boxes = [...table.querySelectorAll("tbody input[type=checkbox]")];
  const all = table.querySelector("[data-select-all]");
  const count = button.querySelector(".selection-count");
  const update = () => {
    const n = boxes.filter((b) => b.checked).length;
    button.disabled = n === 0;
    button.title = n ? "" : "Select one or more segments first";
    count.textContent = n ? ` ${n}` : "";
    boxes.forEach((b) => b.closest("tr").classList.toggle("selected", b.checked));
    if (all) {
      all.checked = n === boxes.length && n > 0;
      all.indeterminate = n > 0 && n < boxes.length;
    }
  };
  boxes.forEach((b) => b.addEventListener("change", update));
  if (all) all.addEventListener("change", () => { boxes.forEach((b) => { b.checked = all.checked; }); update(); });
  update();
}

function setupSmallThings() {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const area = document.getElementById(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(area.value);
      } catch (error) {
        area.select(); // clipboard API refused (e.g. plain http): the old way
        document.execCommand("copy");
      }
      button.textContent = "Copied ✓";
      setTimeout(() => { button.textContent = "Copy"; }, 1800);
    });
  }
  for (const input of document.querySelectorAll("input[name=value], [data-per-segment] input")) {
    input.addEventListener("focus", () => {
      const mode = input.name === "value" ? "all" : "each";
      const radio = document.querySelector(`[data-value-mode][value="${mode}"]`);
      if (radio) radio.checked = true;
    });
  }
}

// -- the pixel tester -------------------------------------------------------------------------

const STORED = {
  store: "Stored in the profile store.",
  journal: "Kept in the write journal: the profile store is down, and the add is stored when it is back.",
};

function setupTester() {
  const root = document.getElementById("tester");
  if (!root) return;
  const names = JSON.parse(root.dataset.names || "{}");
  const nameOf = (id) => names[String(id)] || "";
  const form = document.getElementById("fire-form");
  const result = document.getElementById("fire-result");
  const list = document.getElementById("browser-segments");
  const urlShown = document.getElementById("tester-url");

  const pixelUrl = () => {
    const id = form.segment.value;
    const value = form.value.value.trim();
    const item = value ? `${id}:${encodeURIComponent(value)}` : id;
    return `/seg?add=${item}&t=${form.t.value}&debug=1`;
  };

  async function loadSegments() {
    list.replaceChildren(el("p", { class: "muted" }, "Loading…"));
    try {
      const response = await fetch(root.dataset.segmentsUrl, { credentials: "same-origin", cache: "no-store" });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
      list.replaceChildren(renderSegments(body));
    } catch (error) {
      list.replaceChildren(el("p", { class: "bad" }, `Could not read this browser's segments: ${error.message}`));
    }
  }

  function renderSegments(body) {
    const who = body.opted_out
      ? el("p", { class: "notice warning" }, "This browser has opted out: nothing is stored for it.")
      : el("p", { class: "hint" }, body.user_id ? `Browser user id ${body.user_id}` : "This browser has no segpixel cookie yet.");
    if (!body.segments.length) {
      return el("div", {}, who, el("p", { id: "no-segments" }, "This browser is in none of these segments yet."));
    }
    const rows = body.segments.map((s) =>
      el("tr", { "data-segment": String(s.id) },
        el("td", { class: "num" }, s.id),
        el("td", {}, nameOf(s.id) || (s.code ? s.code : "—")),
        el("td", { class: "num" }, s.value ?? "—"),
        el("td", { class: "num" }, s.count),
        el("td", { class: "nowrap" }, s.last_added.replace("T", " ").replace("Z", "")),
        el("td", { class: "nowrap" }, s.expires_at.replace("T", " ").replace("Z", ""))));
    const head = el("tr", {}, ["ID", "Name", "Value", "Adds", "Last added (UTC)", "Expires (UTC)"].map((h) => el("th", {}, h)));
    return el("div", {}, who, el("table", { class: "grid small", id: "segments-table" }, el("thead", {}, head), el("tbody", {}, rows)));
  }

  function renderOutcome(body) {
    const lines = body.items.map((item) => {
      const name = nameOf(item.segment_id);
      const what = `${item.action === "remove" ? "Remove from" : "Add to"} segment ${item.segment_id ?? item.code}${name ? ` (${name})` : ""}`;
      return el("div", { class: "outcome-line" },
        el("span", { class: item.accepted ? "ok" : "bad" }, item.accepted ? "✓ accepted" : "✗ rejected"),
        el("span", {}, what, item.reason ? ` — ${item.reason}` : ""));
    });
    const chained = body.chained.map((c) =>
      el("div", { class: "outcome-line" },
        el("span", { class: c.fired ? "ok" : "bad" }, c.fired ? "↪ would fire" : "↪ skipped"),
        el("span", { class: "mono break" }, `${c.kind}: ${c.url}`, c.reason ? ` — ${c.reason}` : "")));
    const warnings = body.warnings.map((w) => el("p", { class: "notice warning" }, w));
    return el("div", {},
      el("h3", {}, "What the server did"),
      el("div", { class: "outcome", id: "outcome-items" }, lines.length ? lines : el("p", { class: "muted" }, "No segment items in the call.")),
      chained.length ? el("div", { class: "outcome" }, chained) : null,
      warnings,
      el("p", { class: "hint" }, `${STORED[body.stored_in] || "Nothing was stored."} Browser user id ${body.user_id ?? "—"}; ${body.memberships.length} segment(s) stored by this call.`),
      el("details", { class: "raw" }, el("summary", {}, "The debug=1 answer (JSON)"), el("pre", { class: "json", id: "debug-json" }, JSON.stringify(body, null, 2))));
  }

  if (form) {
    const refreshUrl = () => { urlShown.textContent = pixelUrl(); };
    form.addEventListener("change", refreshUrl);
    form.addEventListener("input", refreshUrl);
    refreshUrl();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      result.replaceChildren(el("p", { class: "muted" }, "Firing…"));
      try {
        const response = await fetch(pixelUrl(), { credentials: "same-origin", cache: "no-store" });
        const body = await response.json();
        result.replaceChildren(renderOutcome(body));
      } catch (error) {
        result.replaceChildren(el("p", { class: "bad" }, `The pixel call failed: ${error.message}`));
      }
      await loadSegments();
    });
  }
  document.getElementById("refresh-segments").addEventListener("click", loadSegments);
  loadSegments();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form")) {
    setupTabs(form);
    setupTypePanels(form);
    setupExpire(form);
    setupCodeHint(form);
    setupPiggybacks(form);
  }
  setupSelection();
  setupSmallThings();
  setupTester();
});
