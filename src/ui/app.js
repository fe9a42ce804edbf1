/*
 * app.js: the seat-map page (SPEC section 8). Plain JavaScript, no build
 * step, no library; it talks only to this server's public API.
 *
 *   /ui/                  the events (GET /events), or open one by id
 *   /ui/events/{id}       the live map; #token=... makes it a buyer's page
 *
 * Model: one array per seat field (index i = the seat's place in the
 * event's list), state[i] in 0..3 (free, held, sold, blocked). The map is a
 * canvas redrawn whole from the arrays at most once per animation frame;
 * beside it a list of <button data-seat data-state aria-label> elements,
 * one per seat, kept current (the contract for tools and tests, the
 * keyboard path, and what screen readers read).
 *
 * Live: the event's feed (GET /events/{id}/feed, Server-Sent Events: a
 * snapshot, then changes; EventSource reconnects and resumes with
 * Last-Event-ID by itself). Where the feed is missing or refused, the page
 * polls GET /events/{id}/seats (every page) every 500 ms and applies the
 * difference, so no change is lost across a dropped connection or a
 * server restart either way.
 *
 * Credentials: the customer token comes from the URL's fragment (never
 * sent to the server in a request line, so never in its logs); the admin
 * key is typed in and kept in sessionStorage (this tab only), never in a
 * URL. Both travel only as Authorization: Bearer.
 */
"use strict";
(function () {
  const STATES = ["free", "held", "sold", "blocked"];
  const ST = { free: 0, held: 1, sold: 2, blocked: 3 };
  const PALETTE = ["#4e9a06", "#3465a4", "#c17d11", "#75507b", "#06989a", "#cc0000", "#8f5902", "#5c3566"];
  const POLL_MS = 500;
  const $ = (s) => document.querySelector(s);
  const money = (p) => (p / 100).toFixed(2);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");

  /* ---- state ----------------------------------------------------------- */
  const ev = { id: "", info: null, hold_ttl_s: 300 };
  let n = 0, ids = [], sect = [], rowName = [], num = [], price = [], cat = [];
  let state = new Uint8Array(0), mine = new Uint8Array(0), gx = new Float32Array(0), gy = new Float32Array(0);
  const index = new Map();          // seat id -> i
  let els = [];                     // the list's buttons, by i
  let cats = [];                    // {name, colour, min, max}
  const selected = new Set();
  let sections = [];                // layout: {name, x, y, w, h, rows: [{name, y, seats: [i]}]}
  let worldW = 1, worldH = 1, cellIndex = new Map(); // (gy * worldW + gx) -> i
  let hold = null;                  // {id, expires_at_ms, seats: [i], total}
  let clockOffset = 0;              // server time - Date.now()
  let focusI = -1;
  const creds = { token: "", admin: "" };
  const stats = { marks: {}, bursts: [], mode: "", polls: 0 };
  // for tools (benchmark, screenshots): read a seat's state, centre the map on a seat
  window.hf = { stats, seatState: (id) => STATES[state[index.get(id)]], centerOn: (id, s) => centerOn(index.get(id), s) };

  /* ---- HTTP ---------------------------------------------------------------- */
  async function api(method, path, body, cred) {
    const h = {};
    if (cred) h["Authorization"] = "Bearer " + cred;
    if (body !== undefined) h["Content-Type"] = "application/json";
    const res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
    let j = null;
    try { j = await res.json(); } catch (e) { j = null; }
    if (!res.ok) { const err = new Error((j && j.error && j.error.message) || res.statusText); err.status = res.status; err.body = j && j.error; throw err; }
    return j;
  }
  const seg = (s) => encodeURIComponent(s);

  async function fetchAllSeats() {
    let out = [], after = null;
    for (;;) {
      const q = "?limit=10000" + (after ? "&after=" + seg(after) : "");
      const j = await api("GET", "/events/" + seg(ev.id) + "/seats" + q);
      out = out.concat(j.seats);
      if (!j.next) return out;
      after = j.next;
    }
  }

  /* ---- messages ------------------------------------------------------------ */
  function setStatus(text, down) { const s = $("#status"); s.textContent = text; s.classList.toggle("down", !!down); }
  function showError(text) { const e = $("#error"); e.textContent = text; e.hidden = !text; }
  function showNotice(text) { const e = $("#notice"); e.textContent = text; e.hidden = !text; }
  function seatName(i) {
    return (rowName[i] ? "Row " + rowName[i] + ", seat " : "Seat ") + (num[i] || ids[i]);
  }
  function label(i) { return seatName(i) + ", " + money(price[i]) + ", " + STATES[state[i]] + (mine[i] ? ", held by you" : "") + (selected.has(i) ? ", picked" : ""); }
  function seatList(list) { return list.map((i) => ids[i] + " (" + seatName(i) + ")").join(", "); }

  /* A refusal, naming the seats: the server's when it names them, else the
   * ones the request was about. */
  function refusal(err, asked) {
    const b = err.body || {};
    const named = (b.seats || []).map((s) => index.get(s.seat)).filter((i) => i !== undefined);
    const which = named.length ? named : asked;
    const what = {
      seats_unavailable: b.reason === "blocked" ? "not for sale (blocked): " : "no longer free: ",
      orphan_seat: "would leave a single seat stranded: ",
      limit_exceeded: "over the limit for this event: ",
    }[b.code] || "refused: ";
    return "Could not hold. Seats " + what + seatList(which) + ". " + (b.message || err.message) + " [" + (b.code || err.status) + "]";
  }

  /* ---- the seats and their layout -------------------------------------- */
  function load(seats) {
    n = seats.length;
    ids = new Array(n); sect = new Array(n); rowName = new Array(n); num = new Array(n); price = new Array(n); cat = new Array(n);
    state = new Uint8Array(n); mine = new Uint8Array(n); gx = new Float32Array(n); gy = new Float32Array(n);
    index.clear();
    const catOf = new Map();
    cats = [];
    for (let i = 0; i < n; i++) {
      const s = seats[i];
      ids[i] = s.id; sect[i] = s.section || ""; rowName[i] = s.row || ""; num[i] = s.number || 0; price[i] = s.price;
      state[i] = ST[s.state] || 0;
      index.set(s.id, i);
      const key = s.category || "price " + money(s.price);
      let c = catOf.get(key);
      if (c === undefined) {
        c = cats.length; catOf.set(key, c);
        cats.push({ name: key, colour: PALETTE[c % PALETTE.length], min: s.price, max: s.price, named: !!s.category });
      }
      cats[c].min = Math.min(cats[c].min, s.price); cats[c].max = Math.max(cats[c].max, s.price);
      cat[i] = c;
    }
    layout();
  }

  /* Sections in order of appearance, flowed left to right into lines so
   * that the map has about the canvas's shape; rows stacked in a section, seats in
   * a row by number. One grid cell per seat. */
  function layout() {
    const bySec = new Map();
    sections = [];
    for (let i = 0; i < n; i++) {
      let s = bySec.get(sect[i]);
      if (!s) { s = { name: sect[i], rows: [], byRow: new Map() }; bySec.set(sect[i], s); sections.push(s); }
      let r = s.byRow.get(rowName[i]);
      if (!r) { r = { name: rowName[i], seats: [] }; s.byRow.set(rowName[i], r); s.rows.push(r); }
      r.seats.push(i);
    }
    let widest = 0, total = 0;
    for (const s of sections) {
      for (const r of s.rows) r.seats.sort((a, b) => (num[a] - num[b]) || (a - b));
      s.w = 3 + s.rows.reduce((m, r) => Math.max(m, r.seats.length), 0);
      s.h = s.rows.length + 2;
      widest = Math.max(widest, s.w); total += s.w + 2;
    }
    // The line width that lets the canvas show the whole map largest:
    // tried at each width where a section would move to the next line.
    const rc = canvas.getBoundingClientRect();
    const cw = rc.width || 800, ch = rc.height || 500;
    const flow = (lineW, place) => {
      let x = 0, y = 0, lineH = 0, w = 1;
      for (const s of sections) {
        if (x > 0 && x + s.w > lineW) { x = 0; y += lineH + 1; lineH = 0; }
        if (place) place(s, x, y);
        x += s.w + 2; lineH = Math.max(lineH, s.h); w = Math.max(w, x);
      }
      return { w, h: y + lineH };
    };
    let best = widest, bestScale = 0;
    const tries = new Set([widest, total]);
    let acc = 0;
    for (const s of sections) { acc += s.w + 2; if (acc >= widest) tries.add(acc); if (tries.size > 400) break; }
    for (const t of tries) {
      const d = flow(t);
      const sc = Math.min(cw / d.w, ch / d.h);
      if (sc > bestScale) { bestScale = sc; best = t; }
    }
    const dims = flow(best, (s, x, y) => {
      s.x = x; s.y = y;
      s.rows.forEach((r, k) => {
        r.y = y + 2 + k;
        r.seats.forEach((i, j) => { gx[i] = x + 3 + j; gy[i] = r.y; });
      });
    });
    worldW = dims.w;
    worldH = dims.h;
    cellIndex = new Map();
    for (let i = 0; i < n; i++) cellIndex.set(gy[i] * worldW + gx[i], i);
  }

  /* ---- the canvas ------------------------------------------------------- */
  const view = { s: 10, tx: 0, ty: 0 };
  let canvas, ctx, dpr = 1, drawQueued = false, afterDraw = [];

  function resize() {
    dpr = window.devicePixelRatio || 1;
    const r = canvas.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(r.width * dpr));
    canvas.height = Math.max(1, Math.round(r.height * dpr));
    redraw();
  }
  function fit() {
    const r = canvas.getBoundingClientRect();
    view.s = Math.max(0.5, Math.min(r.width / (worldW + 1), r.height / (worldH + 1), 48));
    view.tx = (r.width - worldW * view.s) / 2;
    view.ty = (r.height - worldH * view.s) / 2;
    redraw();
  }
  function zoomAt(f, cx, cy) {
    const s = Math.max(0.5, Math.min(80, view.s * f));
    view.tx = cx - (cx - view.tx) * (s / view.s);
    view.ty = cy - (cy - view.ty) * (s / view.s);
    view.s = s;
    redraw();
  }
  function centerOn(i, s) {
    const r = canvas.getBoundingClientRect();
    if (s) view.s = s;
    view.tx = r.width / 2 - (gx[i] + 0.5) * view.s;
    view.ty = r.height / 2 - (gy[i] + 0.5) * view.s;
    redraw();
  }
  function redraw(cb) {
    if (cb) afterDraw.push(cb);
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => {
      drawQueued = false;
      const t = performance.now();
      draw();
      stats.drawMs = performance.now() - t;
      const cbs = afterDraw; afterDraw = [];
      for (const f of cbs) f();
    });
  }

  /* What each seat looks like: a fill and a shape, so that colour is never
   * the only cue (free: a disc in its category's colour; held: a ring; sold:
   * a dark square with a cross; blocked: a pale square with a bar; yours:
   * a disc in a blue ring; picked: a blue disc with a check). */
  function look(i) {
    if (selected.has(i)) return 5;
    if (mine[i]) return 4;
    return state[i];
  }
  function glyph(c, k, colour, x, y, s) {
    const r = s * 0.42, cx = x + s / 2, cy = y + s / 2;
    c.lineWidth = Math.max(1, s * 0.1);
    c.beginPath();
    if (k === 0) { c.fillStyle = colour; c.arc(cx, cy, r, 0, 7); c.fill(); }
    else if (k === 1) { c.fillStyle = "#eeeeee"; c.strokeStyle = "#707070"; c.arc(cx, cy, r * 0.85, 0, 7); c.fill(); c.stroke(); }
    else if (k === 2) { c.fillStyle = "#5a5a5a"; c.fillRect(cx - r, cy - r, 2 * r, 2 * r); c.strokeStyle = "#fff"; c.moveTo(cx - r * .6, cy - r * .6); c.lineTo(cx + r * .6, cy + r * .6); c.moveTo(cx + r * .6, cy - r * .6); c.lineTo(cx - r * .6, cy + r * .6); c.stroke(); }
    else if (k === 3) { c.fillStyle = "#d0d0d0"; c.fillRect(cx - r, cy - r, 2 * r, 2 * r); c.fillStyle = "#444"; c.fillRect(cx - r * .7, cy - r * .15, r * 1.4, r * .3); }
    else if (k === 4) { c.fillStyle = colour; c.strokeStyle = "#0b57d0"; c.lineWidth = Math.max(1.5, s * .16); c.arc(cx, cy, r * .8, 0, 7); c.fill(); c.stroke(); }
    else { c.fillStyle = "#0b57d0"; c.arc(cx, cy, r, 0, 7); c.fill(); c.strokeStyle = "#fff"; c.beginPath(); c.moveTo(cx - r * .5, cy); c.lineTo(cx - r * .1, cy + r * .4); c.lineTo(cx + r * .5, cy - r * .4); c.stroke(); }
  }
  const FLAT = ["", "#bdbdbd", "#5a5a5a", "#9e9e9e", "", "#0b57d0"];

  function draw() {
    const c = ctx, s = view.s;
    const W = canvas.width / dpr, H = canvas.height / dpr;
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, W, H);
    // seats on screen only
    const x0 = Math.floor(-view.tx / s) - 1, x1 = Math.ceil((W - view.tx) / s) + 1;
    const y0 = Math.floor(-view.ty / s) - 1, y1 = Math.ceil((H - view.ty) / s) + 1;
    if (s < 7) {
      // far: one filled path per colour, squares; shapes are too small to see
      const buckets = new Map();
      for (let i = 0; i < n; i++) {
        if (gx[i] < x0 || gx[i] > x1 || gy[i] < y0 || gy[i] > y1) continue;
        const k = look(i);
        const colour = k === 0 || k === 4 ? cats[cat[i]].colour : FLAT[k];
        let b = buckets.get(colour);
        if (!b) { b = []; buckets.set(colour, b); }
        b.push(i);
      }
      const w = Math.max(0.6, s * 0.8);
      for (const [colour, b] of buckets) {
        c.fillStyle = colour;
        c.beginPath();
        for (const i of b) c.rect(view.tx + gx[i] * s, view.ty + gy[i] * s, w, w);
        c.fill();
      }
    } else {
      for (let i = 0; i < n; i++) {
        if (gx[i] < x0 || gx[i] > x1 || gy[i] < y0 || gy[i] > y1) continue;
        glyph(c, look(i), cats[cat[i]].colour, view.tx + gx[i] * s, view.ty + gy[i] * s, s);
      }
    }
    // labels: sections always, rows and numbers when there is room
    c.fillStyle = "#333";
    c.textBaseline = "middle";
    const fs = Math.max(10, Math.min(16, s * 1.2));
    c.font = "600 " + fs + "px system-ui, sans-serif";
    for (const sec of sections) {
      if (sec.name) c.fillText(sec.name, view.tx + (sec.x + 3) * s, view.ty + (sec.y + 0.9) * s);
      if (s >= 9) {
        c.font = Math.min(14, s * 0.8) + "px system-ui, sans-serif";
        for (const r of sec.rows) if (r.name) c.fillText(r.name, view.tx + (sec.x + 0.3) * s, view.ty + (r.y + 0.5) * s);
        c.font = "600 " + fs + "px system-ui, sans-serif";
      }
    }
    if (s >= 26) {
      c.font = Math.round(s * 0.32) + "px system-ui, sans-serif";
      c.textAlign = "center";
      for (let i = 0; i < n; i++) {
        if (gx[i] < x0 || gx[i] > x1 || gy[i] < y0 || gy[i] > y1 || !num[i]) continue;
        c.fillStyle = state[i] === 0 && !selected.has(i) ? "#fff" : "#000";
        if (state[i] === 2 || look(i) === 5) continue;
        c.fillText(String(num[i]), view.tx + (gx[i] + 0.5) * s, view.ty + (gy[i] + 0.5) * s);
      }
      c.textAlign = "start";
    }
    if (focusI >= 0) {
      c.strokeStyle = "#f9ab00"; c.lineWidth = 3;
      c.strokeRect(view.tx + gx[focusI] * s - 2, view.ty + gy[focusI] * s - 2, s + 4, s + 4);
    }
  }

  function legend() {
    const box = $("#legend");
    box.textContent = "";
    const add = (k, colour, text) => {
      const span = document.createElement("span");
      span.className = "item";
      const cv = document.createElement("canvas");
      cv.width = 36; cv.height = 36;
      const c2 = cv.getContext("2d"); c2.scale(2, 2);
      glyph(c2, k, colour, 0, 0, 18);
      cv.setAttribute("aria-hidden", "true");
      span.appendChild(cv);
      span.appendChild(document.createTextNode(text));
      box.appendChild(span);
    };
    for (const c of cats) add(0, c.colour, (c.named ? c.name + " " : "") + (c.min === c.max ? money(c.min) : money(c.min) + "–" + money(c.max)) + " (free)");
    const cnt = counts();
    add(1, "", "held (" + cnt.held + ")");
    add(2, "", "sold (" + cnt.sold + ")");
    add(3, "", "blocked (" + cnt.blocked + ")");
    add(4, cats.length ? cats[0].colour : "#4e9a06", "yours");
    add(5, "", "picked");
    const free = document.createElement("span");
    free.className = "item"; free.setAttribute("data-role", "free-count");
    free.textContent = cnt.free + " of " + n + " free";
    box.appendChild(free);
  }
  function counts() {
    const c = { free: 0, held: 0, sold: 0, blocked: 0 };
    for (let i = 0; i < n; i++) c[STATES[state[i]]]++;
    return c;
  }

  /* ---- the list: every seat a button; the keyboard path ------------------- */
  function buildList() {
    const parts = [];
    for (const s of sections) {
      parts.push('<div class="sec" role="group" aria-label="' + esc(s.name ? "Section " + s.name : "Seats") + '">');
      if (s.name) parts.push("<h3>" + esc(s.name) + "</h3>");
      for (const r of s.rows) {
        parts.push('<div class="row" role="group" aria-label="' + esc(r.name ? "Row " + r.name : "Seats") + '"><span aria-hidden="true">' + esc(r.name ? "Row " + r.name : "") + "</span>");
        for (const i of r.seats) {
          parts.push('<button type="button" tabindex="-1" data-seat="' + esc(ids[i]) + '" data-state="' + STATES[state[i]] +
            '" aria-pressed="false" aria-label="' + esc(label(i)) + '" class="seat c' + cat[i] + '">' + esc(num[i] || ids[i]) + "</button>");
        }
        parts.push("</div>");
      }
      parts.push("</div>");
    }
    // the categories' tints, one rule each (not a style per seat)
    let css = $("#cat-style");
    if (!css) { css = document.createElement("style"); css.id = "cat-style"; document.head.appendChild(css); }
    css.textContent = cats.map((c, k) => ".seat.c" + k + " { --cat: " + c.colour + "33; }").join("\n");
    const list = $("#seat-list");
    list.innerHTML = parts.join("");
    els = new Array(n);
    for (const b of list.querySelectorAll("button.seat")) els[index.get(b.getAttribute("data-seat"))] = b;
    $("#list-count").textContent = String(n);
    if (n) { focusI = -1; els[flatFirst()].tabIndex = 0; }
  }
  function flatFirst() { return sections[0].rows[0].seats[0]; }
  function refreshSeat(i) {
    const b = els[i];
    if (!b) return;
    b.setAttribute("data-state", STATES[state[i]]);
    b.setAttribute("aria-pressed", selected.has(i) ? "true" : "false");
    if (mine[i]) b.setAttribute("data-mine", "true"); else b.removeAttribute("data-mine");
    b.setAttribute("aria-label", label(i));
  }
  function rowOf(i) {
    for (const s of sections) for (let k = 0; k < s.rows.length; k++) if (s.rows[k].seats.includes(i)) return { s, k };
    return null;
  }
  function moveFocus(i) {
    if (i === undefined || i < 0) return;
    if (focusI >= 0 && els[focusI]) els[focusI].tabIndex = -1;
    els[i].tabIndex = 0;
    els[i].focus();
    focusI = i;
    // keep the focused seat in view on the canvas
    const r = canvas.getBoundingClientRect();
    const px = view.tx + gx[i] * view.s, py = view.ty + gy[i] * view.s;
    if (px < 0 || py < 0 || px > r.width - view.s || py > r.height - view.s) { view.tx += r.width / 2 - px; view.ty += r.height / 2 - py; }
    redraw();
  }
  function onListKey(e) {
    const b = e.target.closest("button.seat");
    if (!b) return;
    const i = index.get(b.getAttribute("data-seat"));
    const at = rowOf(i);
    if (!at) return;
    const row = at.s.rows[at.k].seats, j = row.indexOf(i);
    const near = (other) => other.reduce((best, x) => Math.abs(gx[x] - gx[i]) < Math.abs(gx[best] - gx[i]) ? x : best, other[0]);
    let to;
    if (e.key === "ArrowRight") to = row[j + 1];
    else if (e.key === "ArrowLeft") to = row[j - 1];
    else if (e.key === "Home") to = row[0];
    else if (e.key === "End") to = row[row.length - 1];
    else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      const d = e.key === "ArrowDown" ? 1 : -1, si = sections.indexOf(at.s);
      let r = at.s.rows[at.k + d];
      if (!r) { const s2 = sections[si + d]; if (s2) r = d > 0 ? s2.rows[0] : s2.rows[s2.rows.length - 1]; }
      if (r) to = near(r.seats);
    } else return;
    e.preventDefault();
    moveFocus(to);
  }

  /* ---- picking ------------------------------------------------------------ */
  function toggle(i) {
    if (selected.has(i)) selected.delete(i);
    else if (state[i] === 0 && !mine[i]) selected.add(i);
    else if (state[i] === 3 && creds.admin) selected.add(i);
    else { showNotice(seatName(i) + " is " + (mine[i] ? "already held by you" : STATES[state[i]]) + "."); return; }
    showNotice("");
    refreshSeat(i);
    selectionChanged();
  }
  function clearSelection() {
    const was = [...selected];
    selected.clear();
    for (const i of was) refreshSeat(i);
    selectionChanged();
  }
  function selectionChanged() {
    const list = $("#selection");
    list.textContent = "";
    let total = 0;
    for (const i of selected) {
      const li = document.createElement("li");
      li.textContent = seatName(i) + " — " + money(price[i]) + (state[i] === 3 ? " (blocked)" : "");
      li.setAttribute("data-seat", ids[i]);
      list.appendChild(li);
      total += price[i];
    }
    $("#sel-total").textContent = money(total);
    const free = [...selected].filter((i) => state[i] === 0), blocked = [...selected].filter((i) => state[i] === 3);
    $("#hold-btn").disabled = !creds.token || !free.length || blocked.length > 0;
    $("#hold-btn").textContent = hold ? "Add to hold" : "Hold seats";
    $("#clear-btn").disabled = !selected.size;
    document.querySelector('[data-action="block"]').disabled = !free.length || blocked.length > 0;
    document.querySelector('[data-action="unblock"]').disabled = !blocked.length || free.length > 0;
    redraw();
  }

  /* ---- live state: apply changes --------------------------------------- */
  function applyChanges(changes) {
    if (!changes.length) return;
    const t0 = performance.now();
    let lost = [];
    for (const ch of changes) {
      const i = index.get(ch.seat);
      if (i === undefined) continue;
      const st = ST[ch.state];
      if (st === undefined || st === state[i]) continue;
      state[i] = st;
      if (selected.has(i) && st !== 0 && !(st === 3 && creds.admin)) { selected.delete(i); lost.push(i); }
      if (mine[i] && st !== 1) checkHoldSoon();
      refreshSeat(i);
    }
    if (lost.length) { showNotice("Taken by someone else, removed from your pick: " + seatList(lost) + "."); selectionChanged(); }
    legend();
    if (creds.admin) countsTable();
    redraw(() => {
      const t1 = performance.now();
      stats.bursts.push({ seats: changes.length, ms: t1 - t0 });
    });
  }
  function applySnapshot(seats) {
    applyChanges(seats.map((s) => ({ seat: s.id !== undefined ? s.id : s.seat, state: s.state })));
  }

  let es = null, pollTimer = 0, polling = false;
  function follow() {
    if (!window.EventSource) return startPolling();
    es = new EventSource("/events/" + seg(ev.id) + "/feed");
    stats.mode = "feed";
    es.addEventListener("snapshot", (m) => {
      const d = JSON.parse(m.data);
      applySnapshot(d.seats || []);
      setStatus("live");
    });
    es.addEventListener("change", (m) => {
      const d = JSON.parse(m.data);
      applyChanges(d.seats || []);
      setStatus("live");
    });
    es.onopen = () => setStatus("live");
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) { es.close(); es = null; startPolling(); }
      else setStatus("reconnecting…", true);
    };
  }
  function startPolling() {
    stats.mode = "poll";
    if (polling) return;
    polling = true;
    const tick = async () => {
      try {
        const seats = await fetchAllSeats();
        stats.polls++;
        const ch = [];
        for (const s of seats) { const i = index.get(s.id); if (i !== undefined && ST[s.state] !== state[i]) ch.push({ seat: s.id, state: s.state }); }
        applyChanges(ch);
        setStatus("live (polling)");
        pollTimer = setTimeout(tick, POLL_MS);
      } catch (e) {
        setStatus("reconnecting…", true);
        pollTimer = setTimeout(tick, 1000);
      }
    };
    pollTimer = setTimeout(tick, POLL_MS);
  }

  /* ---- the buyer: hold, countdown, extend, confirm ------------------------ */
  function tokenCustomer(t) {
    try { return atob(t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")).split("|")[0]; } catch (e) { return ""; }
  }
  function setHold(h) {
    for (let i = 0; i < n; i++) if (mine[i]) { mine[i] = 0; refreshSeat(i); }
    hold = null;
    if (h && h.state === "active") {
      const seats = (h.seats || []).filter((s) => s.event === ev.id).map((s) => index.get(s.seat)).filter((i) => i !== undefined);
      hold = { id: h.id, expires_at_ms: Date.parse(h.expires_at), seats, total: h.total };
      for (const i of seats) { mine[i] = 1; if (selected.has(i)) selected.delete(i); refreshSeat(i); }
    }
    $("#hold").hidden = !hold;
    if (hold) {
      $("#hold-id").textContent = hold.id;
      $("#hold-total").textContent = money(hold.total);
      const ul = $("#held");
      ul.textContent = "";
      for (const i of hold.seats) { const li = document.createElement("li"); li.setAttribute("data-seat", ids[i]); li.textContent = seatName(i) + " — " + money(price[i]); ul.appendChild(li); }
    }
    selectionChanged();
    tickCountdown();
  }
  async function syncClock() {
    try { const j = await api("GET", "/health"); clockOffset = Date.parse(j.now) - Date.now(); } catch (e) { /* keep the last offset */ }
  }
  function tickCountdown() {
    if (!hold) return;
    const left = Math.max(0, hold.expires_at_ms - (Date.now() + clockOffset));
    const s = Math.ceil(left / 1000);
    const el = $("#countdown");
    el.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    el.classList.toggle("low", s <= 60);
    el.setAttribute("data-expires-at", new Date(hold.expires_at_ms).toISOString());
    if (left === 0) checkHoldSoon();
  }
  let checkTimer = 0;
  function checkHoldSoon() { if (!checkTimer) checkTimer = setTimeout(checkHold, 100); }
  async function checkHold() {
    checkTimer = 0;
    if (!hold) return;
    try {
      const h = await api("GET", "/holds/" + seg(hold.id), undefined, creds.token);
      if (h.state === "active") { hold.expires_at_ms = Date.parse(h.expires_at); return; }
      setHold(null);
      clearSelection();
      if (h.state === "expired") showNotice("Your hold expired and its seats were released. Pick again to hold.");
    } catch (e) {
      if (e.status === 404) { setHold(null); clearSelection(); }
    }
  }
  async function doHold() {
    showError("");
    const asked = [...selected].filter((i) => state[i] === 0);
    const lines = asked.map((i) => ({ event: ev.id, seat: ids[i] }));
    try {
      const h = hold ? await api("POST", "/holds/" + seg(hold.id) + "/add", { seats: lines }, creds.token)
        : await api("POST", "/holds", { seats: lines }, creds.token);
      await syncClock();
      for (const i of asked) selected.delete(i);
      for (const i of asked) if (state[i] === 0) { state[i] = 1; } // the feed will say so too
      setHold(h);
      legend();
    } catch (e) {
      showError(refusal(e, asked));
    }
  }
  async function doConfirm() {
    showError("");
    if (!hold) return;
    try {
      const o = await api("POST", "/holds/" + seg(hold.id) + "/confirm", {}, creds.token);
      const seats = hold.seats;
      for (const i of seats) state[i] = 2;
      setHold(null);
      const box = $("#order");
      box.hidden = false;
      box.setAttribute("data-order", o.id);
      box.textContent = "Order " + o.id + " confirmed: " + seatList(seats) + ", total " + money(o.total) + ".";
      for (const i of seats) refreshSeat(i);
      legend();
    } catch (e) {
      showError("Could not confirm seats " + seatList(hold ? hold.seats : []) + ": " + (e.body ? e.body.message + " [" + e.body.code + "]" : e.message));
      checkHoldSoon();
    }
  }
  async function doExtend() {
    showError("");
    if (!hold) return;
    try {
      setHold(await api("POST", "/holds/" + seg(hold.id) + "/extend", { ttl_s: ev.hold_ttl_s }, creds.token));
      showNotice("More time: the hold now runs to " + new Date(hold.expires_at_ms).toLocaleTimeString() + ".");
    } catch (e) {
      showError("Could not extend the hold on " + seatList(hold.seats) + ": " + (e.body ? e.body.message + " [" + e.body.code + "]" : e.message));
    }
  }
  async function doRelease() {
    if (!hold) return;
    try { await api("DELETE", "/holds/" + seg(hold.id), {}, creds.token); } catch (e) { /* shown by the check */ }
    const seats = hold.seats;
    for (const i of seats) if (state[i] === 1) state[i] = 0;
    setHold(null);
    for (const i of seats) refreshSeat(i);
    legend();
  }
  async function restoreHold() {
    const c = tokenCustomer(creds.token);
    if (!c) return;
    try {
      const j = await api("GET", "/customers/" + seg(c) + "/holds", undefined, creds.token);
      const h = (j.holds || []).find((x) => x.state === "active" && (x.seats || []).some((s) => s.event === ev.id));
      if (h) { await syncClock(); setHold(h); }
    } catch (e) { /* nothing to restore */ }
  }

  /* ---- the organizer: counts, tokens, block/unblock ----------------------- */
  function countsTable() {
    const c = counts(), tb = $("#counts-body");
    tb.textContent = "";
    for (const k of STATES.concat(["total"])) {
      const tr = document.createElement("tr");
      tr.innerHTML = "<th scope=\"row\">" + k + "</th><td data-count=\"" + k + "\">" + (k === "total" ? n : c[k]) + "</td>";
      tb.appendChild(tr);
    }
  }
  function organizer() {
    const on = !!creds.admin;
    $("#key-form").hidden = on;
    $("#org-tools").hidden = !on;
    if (on) countsTable();
    selectionChanged();
  }
  async function mint(e) {
    e.preventDefault();
    showError("");
    const customer = $("#tok-customer").value.trim();
    try {
      const j = await api("POST", "/tokens", { customer, ttl_s: 86400 }, creds.admin);
      const url = location.origin + "/ui/events/" + seg(ev.id) + "#token=" + j.token;
      const out = $("#token-out");
      out.hidden = false;
      out.textContent = "";
      out.appendChild(document.createTextNode("Buyer link for " + customer + " (valid until " + j.expires_at + "): "));
      const a = document.createElement("a");
      a.href = url; a.textContent = url; a.target = "_blank"; a.rel = "noopener";
      out.appendChild(a);
    } catch (err) {
      if (err.status === 401 || err.status === 403) signOut();
      showError("Could not make a token for " + customer + ": " + (err.body ? err.body.message + " [" + err.body.code + "]" : err.message));
    }
  }
  async function block(on) {
    showError("");
    const want = on ? 0 : 3;
    const picked = [...selected].filter((i) => state[i] === want);
    try {
      await api("POST", "/events/" + seg(ev.id) + (on ? "/block" : "/unblock"), { seats: picked.map((i) => ids[i]) }, creds.admin);
      for (const i of picked) { state[i] = on ? 3 : 0; selected.delete(i); refreshSeat(i); }
      selectionChanged(); legend(); countsTable();
      showNotice((on ? "Blocked: " : "Unblocked: ") + seatList(picked) + ".");
    } catch (err) {
      if (err.status === 401 || err.status === 403) signOut();
      showError("Could not " + (on ? "block" : "unblock") + " seats " + seatList(picked) + ": " + (err.body ? err.body.message + " [" + err.body.code + "]" : err.message));
    }
  }
  function signOut() { creds.admin = ""; sessionStorage.removeItem("holdfast-admin-key"); organizer(); }

  /* ---- pointer: pan, zoom, tap ------------------------------------------ */
  function pointer() {
    const pts = new Map();
    let moved = 0, pinch = 0;
    canvas.addEventListener("pointerdown", (e) => {
      canvas.setPointerCapture(e.pointerId);
      pts.set(e.pointerId, { x: e.offsetX, y: e.offsetY });
      moved = 0;
      if (pts.size === 2) { const [a, b] = [...pts.values()]; pinch = Math.hypot(a.x - b.x, a.y - b.y); }
    });
    canvas.addEventListener("pointermove", (e) => {
      const p = pts.get(e.pointerId);
      if (!p) return;
      if (pts.size === 2) {
        p.x = e.offsetX; p.y = e.offsetY;
        const [a, b] = [...pts.values()], d = Math.hypot(a.x - b.x, a.y - b.y);
        if (pinch) zoomAt(d / pinch, (a.x + b.x) / 2, (a.y + b.y) / 2);
        pinch = d; moved += 10;
        return;
      }
      const dx = e.offsetX - p.x, dy = e.offsetY - p.y;
      moved += Math.abs(dx) + Math.abs(dy);
      if (moved > 4) { canvas.classList.add("dragging"); view.tx += dx; view.ty += dy; redraw(); }
      p.x = e.offsetX; p.y = e.offsetY;
    });
    const up = (e) => {
      const was = pts.size;
      pts.delete(e.pointerId);
      canvas.classList.remove("dragging");
      if (was !== 1 || moved > 4 || e.type === "pointercancel") return;
      // a tap: on seats too small for a finger (or a mouse), zoom in there first
      const small = e.pointerType === "touch" ? 22 : 8;
      if (view.s < small) return zoomAt(Math.min(3, small * 1.2 / view.s), e.offsetX, e.offsetY);
      const cx = Math.floor((e.offsetX - view.tx) / view.s), cy = Math.floor((e.offsetY - view.ty) / view.s);
      const i = cellIndex.get(cy * worldW + cx);
      if (i !== undefined) { toggle(i); focusI = i; redraw(); }
    };
    canvas.addEventListener("pointerup", up);
    canvas.addEventListener("pointercancel", up);
    canvas.addEventListener("wheel", (e) => { e.preventDefault(); zoomAt(e.deltaY < 0 ? 1.25 : 0.8, e.offsetX, e.offsetY); }, { passive: false });
  }

  /* ---- start --------------------------------------------------------------- */
  async function startEvent(id) {
    ev.id = id;
    $("#event").hidden = false;
    const h = new URLSearchParams(location.hash.slice(1));
    creds.token = h.get("token") || "";
    creds.admin = sessionStorage.getItem("holdfast-admin-key") || "";
    $("#buyer").hidden = !creds.token;
    canvas = $("#map"); ctx = canvas.getContext("2d");
    setStatus("loading…");
    try {
      ev.info = await api("GET", "/events/" + seg(id));
    } catch (e) {
      setStatus("");
      showError(e.status === 404 ? "There is no event " + id + "." : "Could not load event " + id + ": " + e.message);
      return;
    }
    ev.hold_ttl_s = ev.info.hold_ttl_s || 300;
    $("#title").textContent = ev.info.name || id;
    document.title = (ev.info.name || id) + " — seat map";
    $("#when").textContent = ev.info.starts_at ? new Date(ev.info.starts_at).toUTCString().replace(":00 GMT", " UTC") : "";
    try { const r = JSON.parse(localStorage.getItem("holdfast-recent") || "[]").filter((x) => x !== id); r.unshift(id); localStorage.setItem("holdfast-recent", JSON.stringify(r.slice(0, 12))); } catch (e) { /* private mode */ }
    const seats = await fetchAllSeats();
    performance.mark("hf-seats-fetched");
    // the canvas first (what a buyer looks at), then the list beside it
    let t = performance.now();
    load(seats);
    stats.marks.layoutMs = performance.now() - t;
    legend();
    organizer();
    window.addEventListener("resize", () => { resize(); });
    resize();
    fit();
    await new Promise((done) => redraw(() => {
      performance.mark("hf-first-frame");
      stats.marks.frame = performance.now();
      setTimeout(done, 0);
    }));
    t = performance.now();
    buildList();
    stats.marks.listMs = performance.now() - t;
    $("#list-box").open = n <= 3000;
    selectionChanged();
    performance.mark("hf-ready");
    stats.marks.fetched = performance.getEntriesByName("hf-seats-fetched")[0].startTime;
    stats.marks.drawn = performance.now();
    document.body.setAttribute("data-ready", "true");
    pointer();
    const list = $("#seat-list");
    list.addEventListener("click", (e) => { const b = e.target.closest("button.seat"); if (b) { const i = index.get(b.getAttribute("data-seat")); toggle(i); focusI = i; } });
    list.addEventListener("keydown", onListKey);
    list.addEventListener("focusin", (e) => { const b = e.target.closest("button.seat"); if (b) { focusI = index.get(b.getAttribute("data-seat")); redraw(); } });
    document.querySelector('[data-action="zoom-in"]').onclick = () => zoomAt(1.5, canvas.clientWidth / 2, canvas.clientHeight / 2);
    document.querySelector('[data-action="zoom-out"]').onclick = () => zoomAt(1 / 1.5, canvas.clientWidth / 2, canvas.clientHeight / 2);
    document.querySelector('[data-action="zoom-fit"]').onclick = fit;
    $("#hold-btn").onclick = doHold;
    $("#clear-btn").onclick = clearSelection;
    $("#confirm-btn").onclick = doConfirm;
    $("#extend-btn").onclick = doExtend;
    $("#release-btn").onclick = doRelease;
    $("#key-form").onsubmit = (e) => { e.preventDefault(); creds.admin = $("#admin-key").value.trim(); $("#admin-key").value = ""; if (creds.admin) sessionStorage.setItem("holdfast-admin-key", creds.admin); organizer(); };
    document.querySelector('[data-action="sign-out"]').onclick = signOut;
    $("#token-form").onsubmit = mint;
    document.querySelector('[data-action="block"]').onclick = () => block(true);
    document.querySelector('[data-action="unblock"]').onclick = () => block(false);
    window.addEventListener("hashchange", () => location.reload());
    if (creds.token) { await syncClock(); await restoreHold(); }
    setInterval(tickCountdown, 250);
    setInterval(() => { if (hold) { syncClock(); checkHold(); } }, 2000);
    follow();
  }

  /* The events, a page of 100 at a time (GET /events, oldest first). */
  async function listEvents(after) {
    const ul = $("#events"), more = $("#more-events");
    try {
      const j = await api("GET", "/events?limit=100" + (after ? "&after=" + seg(after) : ""));
      if (!after && !j.events.length) { const li = document.createElement("li"); li.className = "muted"; li.textContent = "No events yet."; ul.appendChild(li); }
      for (const e of j.events) {
        const li = document.createElement("li"), a = document.createElement("a");
        a.href = "/ui/events/" + seg(e.id) + location.hash;
        a.textContent = e.name;
        a.setAttribute("data-event", e.id);
        li.appendChild(a);
        li.appendChild(document.createTextNode(" " + e.id + " · " + new Date(e.starts_at).toUTCString().replace(":00 GMT", " UTC") +
          " · " + e.counts.free + " of " + e.seat_count + " seats free"));
        ul.appendChild(li);
      }
      more.hidden = !j.next;
      more.onclick = () => listEvents(j.next);
    } catch (e) {
      showError("Could not list the events: " + e.message);
    }
  }

  function startHome() {
    $("#home").hidden = false;
    $("#title").textContent = "Seat maps";
    listEvents(null);
    let recent = [];
    try { recent = JSON.parse(localStorage.getItem("holdfast-recent") || "[]"); } catch (e) { recent = []; }
    const ul = $("#recent");
    if (!recent.length) { const li = document.createElement("li"); li.className = "muted"; li.textContent = "None yet."; ul.appendChild(li); }
    for (const id of recent) {
      const li = document.createElement("li"), a = document.createElement("a");
      a.href = "/ui/events/" + seg(id); a.textContent = id; li.appendChild(a); ul.appendChild(li);
    }
    $("#open-form").onsubmit = (e) => { e.preventDefault(); const id = $("#open-id").value.trim(); if (id) location.href = "/ui/events/" + seg(id) + location.hash; };
  }

  const m = location.pathname.match(/^\/ui\/events\/([^/]+)\/?$/);
  if (m) startEvent(decodeURIComponent(m[1])); else startHome();
})();
