// ivs-accessory configuration page: live status, the connection test, the live input
// view, network confirmation and the restart progress. No other script, no libraries.
"use strict";

const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

function get(obj, path) {
  return path.split(".").reduce((o, k) => (o == null ? o : o[k]), obj);
}

async function fetchJson(url, options) {
  const response = await fetch(url, Object.assign({ cache: "no-store", credentials: "same-origin" }, options));
  if (response.status === 401) { location.href = "/login"; throw new Error("logged out"); }
  return response.json();
}

function fillRows(tbody, rows) {
  const cols = tbody.dataset.cols.split(" ");
  tbody.replaceChildren(...rows.map((row) => {
    const tr = document.createElement("tr");
    cols.forEach((c) => { const td = document.createElement("td"); td.textContent = row[c] == null ? "" : row[c]; tr.appendChild(td); });
    return tr;
  }));
}

function liveStatus(root) {
  const every = Math.max(1, Number(root.dataset.every) || 5) * 1000;
  const state = document.getElementById("live-state");
  async function poll() {
    try {
      const data = await fetchJson(root.dataset.poll);
      root.querySelectorAll("[data-live]").forEach((el) => {
        const value = get(data, el.dataset.live);
        el.textContent = value === "" || value == null ? (el.dataset.live === "valt.last_error" ? "none" : "") : value;
      });
      const room = document.getElementById("room-status");
      if (room) room.dataset.status = data.room.status;
      root.querySelectorAll("tbody[data-rows]").forEach((tb) => fillRows(tb, data[tb.dataset.rows] || []));
      if (state) state.textContent = "";
    } catch (e) {
      if (state) state.textContent = "(the box does not answer)";
    }
    setTimeout(poll, every);
  }
  setTimeout(poll, every);
}

function formBody(form) {
  const body = new URLSearchParams(new FormData(form));
  return body;
}

function testConnection(button) {
  const form = button.form, out = document.getElementById("test-result");
  const picker = document.getElementById("room-picker");
  button.addEventListener("click", async () => {
    out.className = ""; out.textContent = "Testing…";
    form.querySelectorAll(".test-error").forEach((el) => el.remove());
    try {
      const data = await fetchJson(button.dataset.url, {
        method: "POST", body: formBody(form), headers: { "X-CSRF-Token": csrf() } });
      out.className = data.ok ? "ok" : "bad";
      out.textContent = data.message;
      out.dataset.reason = data.reason;
      Object.entries(data.errors || {}).forEach(([key, message]) => {
        const input = form.querySelector(`[name="${key}"]`);
        if (input) { const s = document.createElement("small"); s.className = "error test-error"; s.textContent = message; input.after(s); }
      });
      if (data.ok) fillRooms(picker, data.rooms, form.querySelector('[name="room"]'));
    } catch (e) {
      out.className = "bad"; out.textContent = "The box did not answer the test.";
    }
  });
  if (form.querySelector('[name="server"]').value.trim()) button.click();
}

function fillRooms(picker, rooms, roomInput) {
  const current = roomInput.value.trim();
  const options = [new Option(`Choose one of ${rooms.length} rooms`, "")];
  rooms.forEach((r) => options.push(new Option(`${r.id} · ${r.name}`, String(r.id), false, String(r.id) === current)));
  picker.replaceChildren(...options);
  picker.disabled = false;
  picker.onchange = () => { if (picker.value) roomInput.value = picker.value; };
}

function liveEvents(section) {
  const tbody = document.getElementById("event-rows");
  let after = 0;
  async function poll() {
    try {
      const data = await fetchJson(`${section.dataset.poll}?after=${after}`);
      if (data.events.length) {
        tbody.querySelectorAll(".empty").forEach((el) => el.remove());
        data.events.slice().reverse().forEach((e) => {
          after = Math.max(after, e.seq);
          const tr = document.createElement("tr");
          [e.clock, e.source, e.detail].forEach((text) => { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); });
          tbody.prepend(tr);
        });
        while (tbody.children.length > 20) tbody.lastElementChild.remove();
      }
    } catch (e) { /* next poll tries again */ }
    setTimeout(poll, 1000);
  }
  poll();
}

function kindFields(row) {
  const select = row.querySelector("[data-kind-select]");
  const apply = () => row.querySelectorAll("[data-kinds]").forEach((el) => {
    el.hidden = !el.dataset.kinds.split(" ").includes(select.value);
  });
  select.addEventListener("change", apply);
  apply();
}

function showWhen(fieldset) {
  const [name, value] = fieldset.dataset.showWhen.split("=");
  const control = document.querySelector(`[name="${name}"]`);
  const apply = () => { fieldset.hidden = control.value !== value; };
  control.addEventListener("change", apply);
  apply();
}

function countdowns() {
  const items = Array.from(document.querySelectorAll("[data-countdown]"));
  if (!items.length) return;
  const start = Date.now();
  setInterval(() => items.forEach((el) => {
    const left = Math.max(0, Number(el.dataset.countdown) - Math.floor((Date.now() - start) / 1000));
    el.textContent = left;
  }), 1000);
}

function followNewAddress(section) {
  const target = section.dataset.newUrl;
  if (!target) return;
  async function probe() {
    try {
      await fetch(`${target}/healthz`, { mode: "no-cors", cache: "no-store" });
      location.href = `${target}/network/confirm`;
    } catch (e) { setTimeout(probe, 2000); }
  }
  setTimeout(probe, 2000);
}

function restartProgress(section) {
  const state = document.getElementById("progress-state");
  let wentAway = false;
  const began = Date.now();
  async function poll() {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 2500);
    let up = false;
    try { up = (await fetch(section.dataset.health, { cache: "no-store", signal: ctl.signal })).ok; } catch (e) { up = false; }
    clearTimeout(timer);
    if (!up && !wentAway) { wentAway = true; state.textContent = "The box is restarting…"; }
    if (up && wentAway) { state.textContent = "The box is back. Taking you to the login…"; setTimeout(() => { location.href = "/login"; }, 1500); return; }
    if (!wentAway && Date.now() - began > 180000) { state.textContent = "The box did not restart within 3 minutes; check the System page and the log."; return; }
    setTimeout(poll, 1500);
  }
  poll();
}

document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live");
  if (live) liveStatus(live);
  const test = document.getElementById("test-connection");
  if (test) testConnection(test);
  const events = document.getElementById("events");
  if (events) liveEvents(events);
  document.querySelectorAll("[data-source-row]").forEach(kindFields);
  document.querySelectorAll("[data-show-when]").forEach(showWhen);
  const trial = document.getElementById("network-trial");
  if (trial) followNewAddress(trial);
  const progress = document.getElementById("progress");
  if (progress) restartProgress(progress);
  countdowns();
});
