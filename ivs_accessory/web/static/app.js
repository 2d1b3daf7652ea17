// ivs-accessory configuration page: live status and checklist, the connection test,
// the live input view, focus on a refused field, network confirmation, the restart
// progress, the box's clock and enrolment mode's reads. No other script, no libraries.
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

function labels(tbody) {
  const table = tbody.closest("table");
  return Array.from(table ? table.querySelectorAll("thead th") : []).map((th) => th.textContent);
}

function fillRows(tbody, rows) {
  const cols = tbody.dataset.cols.split(" "), names = labels(tbody);
  tbody.replaceChildren(...rows.map((row) => {
    const tr = document.createElement("tr");
    cols.forEach((c, i) => {
      const td = document.createElement("td");
      td.textContent = row[c] == null ? "" : row[c];
      if (names[i]) td.dataset.label = names[i];
      tr.appendChild(td);
    });
    return tr;
  }));
}

function showChecklist(setup) {
  (setup.steps || []).forEach((step) => {
    const li = document.querySelector(`[data-step="${step.id}"]`);
    if (!li) return;
    li.dataset.done = step.done ? "true" : "false";
    li.querySelector("[data-step-state]").textContent = step.done ? "done" : "not done yet";
    li.querySelector("[data-step-detail]").textContent = step.detail;
  });
}

function showValtAlert(words) {
  const banner = document.getElementById("valt-alert");
  if (!banner) return;
  document.getElementById("valt-alert-text").textContent = words || "";
  banner.hidden = !words;
}

function liveStatus(root) {
  const every = Math.max(1, Number(root.dataset.every) || 5) * 1000;
  const state = document.getElementById("live-state");
  async function poll() {
    try {
      const data = await fetchJson(root.dataset.poll);
      root.querySelectorAll("[data-live]").forEach((el) => {
        const value = get(data, el.dataset.live);
        const text = value === "" || value == null ? (el.dataset.live === "valt.last_error" ? "none" : "") : String(value);
        if (el.textContent !== text) el.textContent = text;
      });
      const room = document.getElementById("room-status");
      if (room) room.dataset.status = data.room.status;
      const valt = document.getElementById("valt-state");
      if (valt) valt.dataset.state = data.valt.code;
      showValtAlert(data.valt.alert);
      if (data.setup) showChecklist(data.setup);
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

function note(input, kind, message) {
  // The server may already show this very error next to the field: say it once.
  const field = input.closest(".field, td") || input.parentElement;
  const said = Array.from(field.querySelectorAll(`small.${kind}`)).some(
    (el) => el.textContent === message || (kind === "warning" && !el.classList.contains("test-note")));
  if (said) return;
  const s = document.createElement("small");
  s.className = `${kind} test-note`;
  s.textContent = message;
  input.after(s);
}

function testConnection(button) {
  const form = button.form, out = document.getElementById("test-result");
  const picker = document.getElementById("room-picker");
  const roomInput = form.querySelector('[name="room"]');
  button.addEventListener("click", async () => {
    out.className = ""; out.textContent = "Testing…";
    form.querySelectorAll(".test-note").forEach((el) => el.remove());
    try {
      const data = await fetchJson(button.dataset.url, {
        method: "POST", body: formBody(form), headers: { "X-CSRF-Token": csrf() } });
      out.className = data.ok ? "ok" : "bad";
      out.textContent = data.message;
      out.dataset.reason = data.reason;
      Object.entries(data.errors || {}).forEach(([key, message]) => {
        const input = form.querySelector(`[name="${key}"]`);
        if (input) note(input, "error", message);
      });
      if (data.reason === "credentials") {
        note(form.querySelector('[name="password"]'), "warning", "VALT refused this user name and password; saving them keeps the door from recording.");
      }
      if (data.ok) {
        fillRooms(picker, data.rooms, roomInput);
        const room = roomInput.value.trim();
        if (room && !data.rooms.some((r) => String(r.id) === room)) {
          note(roomInput, "warning", `VALT has no room ${room}; pick one from the list.`);
        }
      }
    } catch (e) {
      out.className = "bad"; out.textContent = "The box did not answer the test.";
    }
  });
  // Test the saved settings when the page opens (it fills the room picker), unless
  // the page shows a refused form or a save whose login just failed: said already.
  const said = document.getElementById("form-problems") || document.querySelector("#flash.bad");
  if (form.querySelector('[name="server"]').value.trim() && !said) button.click();
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
  const names = labels(tbody);
  let shown = "";
  async function poll() {
    try {
      const data = await fetchJson(section.dataset.poll);
      const text = JSON.stringify(data.events);
      if (data.events.length && text !== shown) {
        shown = text;
        tbody.replaceChildren(...data.events.map((e) => {
          const tr = document.createElement("tr");
          tr.dataset.seq = e.seq;
          const result = e.message ? `${e.message} (${e.result})` : "";
          [e.clock, e.source, e.detail, result].forEach((value, i) => {
            const td = document.createElement("td");
            td.textContent = value;
            td.dataset.label = names[i];
            tr.appendChild(td);
          });
          if (e.result) tr.dataset.result = e.result;
          return tr;
        }));
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

function enrolment(section) {
  // While the mode is on: reload when a read arrives or the mode ends, unless the
  // admin is filling a write form (then a link says there is more to see).
  const last = Number(section.dataset.lastSeq) || 0;
  async function poll() {
    try {
      const data = await fetchJson(section.dataset.poll);
      const busy = document.activeElement && document.activeElement.closest("form.write");
      if (!data.on || (data.last_seq !== last && !busy)) { location.reload(); return; }
      if (data.last_seq !== last) document.getElementById("enrol-new").hidden = false;
    } catch (e) { /* next poll tries again */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
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

function focusFirstProblem() {
  // A refused form: the banner at the top says what, the first bad field gets the
  // focus (scrolled below the sticky banner by CSS scroll-margin).
  if (!document.getElementById("form-problems")) return;
  const first = document.querySelector('main [aria-invalid="true"]');
  if (first && first.offsetParent !== null) first.focus();
}

function boxClock(el) {
  const epoch = Number(el.dataset.epoch) * 1000, began = Date.now();
  let format;
  try {
    format = new Intl.DateTimeFormat("sv-SE", { timeZone: el.dataset.zone || undefined,
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  } catch (e) { return; }  // a zone this browser does not know: the time stays as loaded
  setInterval(() => { el.textContent = format.format(new Date(epoch + Date.now() - began)); }, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live");
  if (live) liveStatus(live);
  const test = document.getElementById("test-connection");
  if (test) testConnection(test);
  const events = document.getElementById("events");
  if (events) liveEvents(events);
  const enrol = document.getElementById("enrol-on");
  if (enrol) enrolment(enrol);
  document.querySelectorAll("[data-source-row]").forEach(kindFields);
  document.querySelectorAll("[data-show-when]").forEach(showWhen);
  const trial = document.getElementById("network-trial");
  if (trial) followNewAddress(trial);
  const progress = document.getElementById("progress");
  if (progress) restartProgress(progress);
  const clock = document.getElementById("clock-now");
  if (clock) boxClock(clock);
  countdowns();
  focusFirstProblem();
});
