// orderflow live order board: the orders by state, kept current by the
// API's server-sent events (read with fetch so an API key can be sent the
// same way as for every other request), with a latency histogram and an
// order's timeline. No external resources: the page's CSP allows none.
"use strict";

const STATES = ["received", "validated", "awaiting_approval", "approved", "paid", "shipping", "dispatched",
  "shipped", "cancelled", "failed"];
const TERMINAL = new Set(["shipped", "cancelled", "failed"]);
const BUDGET_S = 15;
const PER_COLUMN = 40;

const orders = new Map(); // order_id -> summary (the GET /orders shape, plus seq when known)
let selected = null;
let renderQueued = false;

const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") n.className = v; else if (k.startsWith("data-")) n.setAttribute(k, v); else n[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) n.append(c);
  return n;
}

function apiKey() { return sessionStorage.getItem("orderflow.apiKey") || ""; }
function headers() { const k = apiKey(); return k ? { Authorization: "Bearer " + k } : {}; }
async function api(path) {
  const res = await fetch(path, { headers: headers() });
  if (!res.ok) {
    let detail = res.statusText;
    try { detail = (await res.json()).detail || detail; } catch (e) { /* not problem+json */ }
    throw new Error(res.status + " " + detail);
  }
  return res.json();
}

// apply keeps the newer of what we know and o (by update time, then seq),
// so a list loaded late never moves an order backwards.
function apply(o, fresh) {
  const cur = orders.get(o.order_id);
  if (cur) {
    const a = Date.parse(cur.updated_at), b = Date.parse(o.updated_at);
    if (b < a || (b === a && (o.seq || 0) <= (cur.seq || 0))) return false;
  }
  orders.set(o.order_id, Object.assign({}, cur, o, { fresh: fresh }));
  return true;
}

async function loadOrders() {
  let url = "/orders?limit=200";
  for (let page = 0; page < 5 && url; page++) {
    const body = await api(url);
    for (const o of body.orders) apply(o, false);
    url = body.next_cursor ? "/orders?limit=200&cursor=" + encodeURIComponent(body.next_cursor) : null;
  }
  queueRender();
}

// stream reads /board/events as server-sent events until it ends, then
// reconnects; every (re)connect reloads the list so nothing is missed.
async function stream() {
  for (;;) {
    try {
      const res = await fetch("/board/events", { headers: Object.assign({ Accept: "text/event-stream" }, headers()) });
      if (!res.ok) throw new Error("event stream: " + res.status);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i); buf = buf.slice(i + 2);
          let event = "message", data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          await onEvent(event, data);
        }
      }
    } catch (err) {
      setConn(false, String(err.message || err));
    }
    setConn(false, "reconnecting…");
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function onEvent(event, data) {
  if (event === "ready") {
    try { await loadOrders(); setConn(true); } catch (err) { setConn(false, err.message); }
  } else if (event === "order") {
    const o = JSON.parse(data);
    if (apply(o, true)) {
      queueRender();
      if (o.order_id === selected) showTimeline(selected);
    }
  }
}

function setConn(live, text) {
  document.body.dataset.live = live ? "true" : "false";
  $("conn").textContent = live ? "live" : text || "disconnected";
}

function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => { renderQueued = false; render(); });
}

function render() {
  const byState = new Map(STATES.map((s) => [s, []]));
  for (const o of orders.values()) (byState.get(o.state) || byState.set(o.state, []).get(o.state)).push(o);

  const counts = $("counts"); counts.replaceChildren();
  for (const s of STATES) {
    counts.append(el("div", { class: "count", "data-state": s }, el("b", { "data-count": s }, String(byState.get(s).length)), el("span", {}, s.replace("_", " "))));
  }
  const board = $("board"); board.replaceChildren();
  for (const s of STATES) {
    const list = byState.get(s).sort((a, b) => Date.parse(b.updated_at) - Date.parse(a.updated_at));
    const col = el("div", { class: "column", "data-state": s }, el("h3", {}, s.replace("_", " ")));
    for (const o of list.slice(0, PER_COLUMN)) {
      const card = el("div", { class: "card " + o.state + (o.fresh ? " fresh" : "") + (o.order_id === selected ? " selected" : ""),
        "data-order-id": o.order_id, "data-state": o.state, title: "show the timeline" },
        o.order_id, el("small", {}, o.step ? o.step.replace(/_/g, " ") : ""));
      card.addEventListener("click", () => { selected = o.order_id; queueRender(); showTimeline(o.order_id); });
      col.append(card);
      o.fresh = false;
    }
    if (list.length > PER_COLUMN) col.append(el("div", { class: "more" }, "+" + (list.length - PER_COLUMN) + " more"));
    board.append(col);
  }
  renderHistogram();
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)];
}

function renderHistogram() {
  const lat = [];
  for (const o of orders.values()) {
    if (TERMINAL.has(o.state) && o.completed_at) lat.push((Date.parse(o.completed_at) - Date.parse(o.accepted_at)) / 1000);
  }
  lat.sort((a, b) => a - b);
  const buckets = new Array(BUDGET_S + 1).fill(0); // [0,1) … [14,15), ≥15
  for (const s of lat) buckets[Math.min(BUDGET_S, Math.max(0, Math.floor(s)))]++;
  const max = Math.max(1, ...buckets);
  const h = $("histogram"); h.replaceChildren();
  buckets.forEach((n, i) => {
    const bar = el("div", { class: "bar" + (i >= BUDGET_S ? " over" : ""), "data-bucket": String(i), title: n + " orders" },
      el("span", {}, n ? String(n) : ""), el("i", {}, i >= BUDGET_S ? "≥15" : String(i)));
    bar.style.height = (100 * n / max) + "%";
    h.append(bar);
  });
  const budget = el("div", { class: "budget" });
  budget.style.left = (100 * BUDGET_S / (BUDGET_S + 1)) + "%";
  h.append(budget);
  const over = lat.filter((s) => s >= BUDGET_S).length;
  $("histstats").textContent = lat.length
    ? lat.length + " finished · p50 " + percentile(lat, 50).toFixed(2) + " s · p95 " + percentile(lat, 95).toFixed(2) +
      " s · max " + lat[lat.length - 1].toFixed(2) + " s · over budget " + over
    : "no finished orders yet";
}

function fmtTime(t) { return t ? new Date(t).toISOString().slice(11, 23) : ""; }

async function showTimeline(id) {
  const panel = $("timeline");
  let status, events;
  try {
    [status, events] = await Promise.all([api("/orders/" + encodeURIComponent(id) + "/status"),
      api("/orders/" + encodeURIComponent(id) + "/events").catch(() => ({ events: [] }))]);
  } catch (err) {
    panel.replaceChildren(el("h2", {}, "Timeline · " + id), el("p", { class: "note" }, String(err.message)));
    return;
  }
  if (selected !== id) return;
  const st = status.status || {};
  const pay = st.payment || {}, ship = st.shipping || {};
  const kv = el("dl", { class: "kv" });
  const add = (k, v) => { if (v !== undefined && v !== null && v !== "") kv.append(el("dt", {}, k), el("dd", {}, String(v))); };
  add("state", st.state); add("step", st.step); add("source", status.source + (status.workflow_status ? " · " + status.workflow_status : ""));
  add("payment", [pay.payment_id, pay.status, pay.amount_cents !== undefined ? (pay.amount_cents / 100).toFixed(2) : ""].filter(Boolean).join(" · "));
  add("tracking", [ship.tracking_number, ship.carrier, ship.attempt ? "attempt " + ship.attempt : ""].filter(Boolean).join(" · "));
  add("waiting for", st.waiting_for);
  add("failure", st.failure_reason);

  const attempts = el("table", {}, el("tr", {}, el("th", {}, "step"), el("th", {}, "attempts")));
  for (const [step, n] of Object.entries(st.attempts || {})) attempts.append(el("tr", {}, el("td", {}, step), el("td", {}, String(n))));
  const errors = el("table", {}, el("tr", {}, el("th", {}, "time"), el("th", {}, "step"), el("th", {}, "#"), el("th", {}, "error")));
  for (const e of st.recent_errors || []) errors.append(el("tr", {}, el("td", {}, fmtTime(e.at)), el("td", {}, e.step), el("td", {}, String(e.attempt)), el("td", { class: "err" }, e.error)));
  const signals = el("table", {}, el("tr", {}, el("th", {}, "time"), el("th", {}, "signal"), el("th", {}, "outcome")));
  for (const s of st.signals || []) signals.append(el("tr", {}, el("td", {}, fmtTime(s.at)), el("td", {}, s.signal),
    el("td", { class: s.accepted ? "" : "rej" }, s.accepted ? "accepted" : "rejected: " + (s.reason || ""))));
  const steps = el("table", { "data-timeline": id }, el("tr", {}, el("th", {}, "seq"), el("th", {}, "time"), el("th", {}, "event"), el("th", {}, "state"), el("th", {}, "detail")));
  for (const e of events.events || []) {
    const detail = e.data && Object.keys(e.data).length ? JSON.stringify(e.data) : "";
    steps.append(el("tr", { "data-event": e.type }, el("td", {}, String(e.seq)), el("td", {}, fmtTime(e.occurred_at)), el("td", {}, e.type),
      el("td", {}, e.state), el("td", { class: e.type.includes("fail") || e.type.includes("reject") ? "err" : "" }, detail.slice(0, 160))));
  }
  const parts = [el("h2", {}, "Timeline · " + id), kv, steps, el("h2", {}, "Attempts per step"), attempts];
  if ((st.recent_errors || []).length) parts.push(el("h2", {}, "Recent errors"), errors);
  if ((st.signals || []).length) parts.push(el("h2", {}, "Signals"), signals);
  panel.replaceChildren(...parts);
}

document.addEventListener("DOMContentLoaded", () => {
  $("apikey").value = apiKey();
  $("keyform").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem("orderflow.apiKey", $("apikey").value.trim());
    location.reload();
  });
  render();
  stream();
});
