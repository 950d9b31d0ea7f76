// Kundo staff UI: search as you type, file upload of postal returns, the segment builder.
// Every page works without this script; it only makes them quicker to use.
"use strict";
(function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // Search as you type: the form's data-live route answers with the result list as HTML.
  document.querySelectorAll("form[data-live]").forEach((form) => {
    const input = form.querySelector("input[name=q]");
    const target = document.getElementById(form.dataset.target);
    let timer = null;
    let seq = 0;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const mine = ++seq;
        const q = input.value;
        const res = await fetch(form.dataset.live + "?q=" + encodeURIComponent(q), { credentials: "same-origin" });
        if (mine !== seq) return;
        target.innerHTML = await res.text();
        history.replaceState(null, "", "?q=" + encodeURIComponent(q));
      }, 180);
    });
  });

  // Postal returns: send the chosen file's bytes as the request body.
  document.querySelectorAll("form[data-upload]").forEach((form) => {
    form.addEventListener("submit", async (ev) => {
      const file = form.querySelector("input[type=file]").files[0];
      if (!file) return; // the pasted text goes as a normal form post
      ev.preventDefault();
      const skip = form.querySelector("input[name=skip_invalid]").checked ? "?skip_invalid=1" : "";
      const res = await fetch(form.action + skip, {
        method: "POST", credentials: "same-origin", body: file,
        headers: { "Content-Type": "text/csv", "X-CSRF-Token": csrf() },
      });
      const html = await res.text();
      document.open(); document.write(html); document.close();
    });
  });

  // Segment builder: a tree of and/or groups (each can be negated) with conditions, written to
  // the definition field as JSON; the preview route counts the members as the tree changes. A
  // saved definition is read back into the tree; a condition the builder has no form for stays
  // as its JSON text.
  const builder = document.getElementById("builder");
  if (!builder) return;
  const labels = document.getElementById("tpl-labels").dataset;
  const area = document.querySelector("textarea[name=definition]");
  const out = document.getElementById("seg-count");
  // The lists the server validates against, rendered into the page: never a copy of our own.
  const choices = JSON.parse(labels.choices || "{}");
  const CONSENT_CHANNELS = choices.consent_channels || [];
  const CONSENT_STATUSES = (choices.consent_statuses || []).map((s) => s.value);
  const CONSENT_LABELS = Object.fromEntries((choices.consent_statuses || []).map((s) => [s.value, s.label]));
  const POSTAL_STATUSES = choices.postal_statuses || [];
  const OPS = ["gte", "gt", "eq", "ne", "lt", "lte"];
  const FIELDS = ["postcode", "city", "country", "gender", "language", "preferred_channel", "salutation"];
  const TYPES = {
    field: { label: "Feld / field", params: [["field", FIELDS], ["op", ["eq", "ne"]], ["value", "text"]],
      build: (p) => ({ field: p.field, op: p.op, value: p.value }) },
    age: { label: "Alter / age", params: [["op", OPS], ["value", "number"]], build: (p) => ({ field: "age", op: p.op, value: Number(p.value) }) },
    revenue: { label: "Umsatz 12 M. / revenue 12 m. (Rp/ct)", params: [["op", OPS], ["value", "number"]],
      build: (p) => ({ purchases: { metric: "revenue", window: { last_months: 12 }, op: p.op, value: Number(p.value) } }) },
    receipts: { label: "Einkäufe / receipts", params: [["op", OPS], ["value", "number"]],
      build: (p) => ({ purchases: { metric: "receipts", op: p.op, value: Number(p.value) } }) },
    last_purchase: { label: "Letzter Einkauf / last purchase (days)", params: [["op", ["within", "before"]], ["days", "number"]],
      build: (p) => ({ last_purchase: { op: p.op, days: Number(p.days) } }) },
    balance: { label: "Punkte / points", params: [["op", OPS], ["value", "number"]],
      build: (p) => ({ loyalty: { metric: "balance", op: p.op, value: Number(p.value) } }) },
    consent: { label: "Einwilligung / consent", params: [["channel", CONSENT_CHANNELS], ["status", CONSENT_STATUSES, CONSENT_LABELS]],
      build: (p) => ({ consent: { channel: p.channel, status: p.status } }) },
    postal: { label: "Poststatus / postal status", params: [["status", POSTAL_STATUSES]], build: (p) => ({ postal_status: p.status }) },
    json: { label: "JSON", params: [["json", "text"]],
      build: (p) => { try { return JSON.parse(p.json); } catch (e) { return null; } } },
  };
  let counter = 0;

  // A definition as a tree node: the inverse of TYPES[…].build, JSON for the rest.
  const has = (o, ...keys) => o && typeof o === "object" && !Array.isArray(o) && Object.keys(o).length === keys.length && keys.every((k) => k in o);
  const cond = (type, params) => ({ type, params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const parse = (d) => {
    if (has(d, "and") && Array.isArray(d.and)) return { group: "and", negate: false, children: d.and.map(parse) };
    if (has(d, "or") && Array.isArray(d.or)) return { group: "or", negate: false, children: d.or.map(parse) };
    if (has(d, "not")) {
      const inner = parse(d.not);
      if (inner.group && !inner.negate) { inner.negate = true; return inner; }
      return { group: "and", negate: true, children: [inner] };
    }
    if (has(d, "field", "op", "value")) {
      if (d.field === "age" && OPS.includes(d.op) && typeof d.value === "number") return cond("age", { op: d.op, value: d.value });
      if (FIELDS.includes(d.field) && ["eq", "ne"].includes(d.op) && typeof d.value === "string") return cond("field", d);
    }
    const p = d && d.purchases;
    if (has(d, "purchases") && has(p, "metric", "window", "op", "value") && p.metric === "revenue" && has(p.window, "last_months") && p.window.last_months === 12 && OPS.includes(p.op))
      return cond("revenue", { op: p.op, value: p.value });
    if (has(d, "purchases") && has(p, "metric", "op", "value") && p.metric === "receipts" && OPS.includes(p.op))
      return cond("receipts", { op: p.op, value: p.value });
    if (has(d, "last_purchase") && has(d.last_purchase, "op", "days") && ["within", "before"].includes(d.last_purchase.op))
      return cond("last_purchase", d.last_purchase);
    if (has(d, "loyalty") && has(d.loyalty, "metric", "op", "value") && d.loyalty.metric === "balance" && OPS.includes(d.loyalty.op))
      return cond("balance", { op: d.loyalty.op, value: d.loyalty.value });
    if (has(d, "consent") && has(d.consent, "channel", "status") && TYPES.consent.params[0][1].includes(d.consent.channel) && TYPES.consent.params[1][1].includes(d.consent.status))
      return cond("consent", d.consent);
    if (has(d, "postal_status") && TYPES.postal.params[0][1].includes(d.postal_status)) return cond("postal", { status: d.postal_status });
    return cond("json", { json: JSON.stringify(d) });
  };
  let root = { group: "and", negate: false, children: [] };
  try {
    const saved = JSON.parse(area.value || "null");
    if (saved) { const n = parse(saved); root = n.group ? n : { group: "and", negate: false, children: [n] }; }
  } catch (e) { /* not JSON: start empty; the server names the error at the field */ }

  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    kids.forEach((k) => e.append(k));
    return e;
  };
  const select = (name, options, value, onChange, texts) => {
    const s = el("select", { "aria-label": name });
    options.forEach((o) => { const opt = el("option", { value: o }, (texts && texts[o]) || o); if (o === value) opt.selected = true; s.append(opt); });
    s.addEventListener("change", () => onChange(s.value));
    return s;
  };
  const json = (node) => {
    if (node.group) {
      const kids = node.children.map(json).filter((x) => x !== null);
      if (kids.length === 0) return null;
      const g = { [node.group]: kids };
      return node.negate ? { not: g } : g;
    }
    return TYPES[node.type].build(node.params);
  };
  const newCond = () => {
    const params = {};
    TYPES.field.params.forEach(([n, kind]) => { params[n] = Array.isArray(kind) ? kind[0] : ""; });
    params.value = "8001";
    return { type: "field", params };
  };
  const setType = (node, type) => {
    node.type = type;
    node.params = {};
    TYPES[type].params.forEach(([n, kind]) => { node.params[n] = Array.isArray(kind) ? kind[0] : (kind === "number" ? "0" : ""); });
  };

  const render = (node, parent) => {
    if (node.group) {
      const box = el("div", { class: "group" + (node.negate ? " negated" : ""), role: "group" });
      const head = el("div", { class: "head" });
      head.append(select("and/or", ["and", "or"], node.group, (v) => { node.group = v; changed(); }));
      const id = "neg" + (++counter);
      const neg = el("input", { type: "checkbox", id, class: "negate" });
      neg.checked = !!node.negate;
      neg.addEventListener("change", () => { node.negate = neg.checked; box.classList.toggle("negated", neg.checked); changed(); });
      head.append(el("label", { for: id, class: "negate-label" }, neg, " " + labels.not));
      box.append(head);
      const list = el("div", {});
      node.children.forEach((c, i) => list.append(render(c, { node, i })));
      box.append(list);
      const add = (label, make, cls) => {
        const b = el("button", { type: "button", class: "secondary " + cls }, label);
        b.addEventListener("click", () => { node.children.push(make()); redraw(); });
        return b;
      };
      const buttons = el("div", { class: "buttons" },
        add(labels.cond, newCond, "add-cond"),
        add(labels.and, () => ({ group: "and", negate: false, children: [newCond()] }), "add-and"),
        add(labels.or, () => ({ group: "or", negate: false, children: [newCond()] }), "add-or"));
      if (parent) buttons.append(remove(parent));
      box.append(buttons);
      return box;
    }
    const row = el("div", { class: "cond" });
    row.append(select("type", Object.keys(TYPES), node.type, (v) => { setType(node, v); redraw(); }));
    TYPES[node.type].params.forEach(([name, kind, texts]) => {
      if (Array.isArray(kind)) {
        row.append(select(name, kind, node.params[name], (v) => { node.params[name] = v; changed(); }, texts));
      } else {
        const id = "c" + (++counter);
        const input = el("input", { id, type: kind, value: node.params[name], "aria-label": name, size: name === "json" ? "40" : "10" });
        input.addEventListener("input", () => { node.params[name] = input.value; changed(); });
        row.append(input);
      }
    });
    row.append(remove(parent));
    return row;
  };
  const remove = (parent) => {
    const b = el("button", { type: "button", class: "secondary", "aria-label": "remove" }, "×");
    b.addEventListener("click", () => { parent.node.children.splice(parent.i, 1); redraw(); });
    return b;
  };
  let timer = null;
  const changed = () => {
    const def = json(root);
    area.value = JSON.stringify(def || { and: [] });
    clearTimeout(timer);
    if (!def) { out.value = "–"; return; }
    timer = setTimeout(async () => {
      const res = await fetch(builder.dataset.preview, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify({ definition: def, limit: 0 }),
      });
      const body = await res.json();
      out.value = res.ok ? String(body.count) : (body.detail || body.title);
    }, 250);
  };
  const tree = document.getElementById("tree");
  const redraw = () => { tree.replaceChildren(render(root, null)); changed(); };
  redraw();
})();
