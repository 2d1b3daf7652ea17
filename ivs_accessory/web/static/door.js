// ivs-accessory door page: follows the daemon's state over one server-sent event
// stream, ticks the clock and the recording's timer between events, and drives the
// on-screen PIN pad and the camera preset buttons where the page offers them. No
// other script, no libraries.
"use strict";

(function () {
  const body = document.body;
  const byId = (id) => document.getElementById(id);
  // The stream resends the state at least every 15 s: silence longer than this
  // means the connection is gone, and the page stops showing what it last heard.
  const SILENT_MS = 40000;
  const OUTCOME_MS = 3000;

  let state = JSON.parse(byId("door-state").textContent);
  let heardAt = performance.now(); // when `state` arrived
  let offsetMs = state.now_ms - Date.now(); // the box's clock minus this one
  let outcomeUntil = 0;
  let outcomeSeq = null;

  const two = (n) => String(n).padStart(2, "0");

  function boxNow() {
    return Date.now() + offsetMs;
  }

  function clockText(ms) {
    const local = new Date(ms + (state.utc_offset_s || 0) * 1000);
    return two(local.getUTCHours()) + ":" + two(local.getUTCMinutes());
  }

  function elapsedText(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + two(m) : String(m)) + ":" + two(s % 60);
  }

  function showOutcome(words, kind, seconds) {
    const el = byId("outcome");
    el.textContent = words;
    el.dataset.kind = kind;
    el.hidden = false;
    outcomeUntil = performance.now() + seconds * 1000;
  }

  function silent() {
    return performance.now() - heardAt > SILENT_MS;
  }

  function renderSessions() {
    const list = byId("sessions");
    const now = boxNow() / 1000;
    let upcoming = false;
    list.replaceChildren(...state.schedule.sessions.map((row) => {
      let when = row.stop_at <= now ? "past" : "now";
      if (row.start_at > now) {
        when = upcoming ? "later" : "next";
        upcoming = true;
      }
      const li = document.createElement("li");
      li.dataset.when = when;
      const time = document.createElement("span");
      time.className = "time";
      time.textContent = row.start + "–" + row.stop;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = row.name;
      li.append(time, name);
      return li;
    }));
    byId("schedule-note").textContent = state.schedule.note || "";
  }

  function render() {
    const lost = silent();
    body.dataset.state = lost ? "disconnected" : state.state;
    byId("room").textContent = state.title;
    document.title = state.title + " · door";
    byId("state").textContent = lost ? "No connection" : state.words;
    // Enrolment mode: reads at this door are shown to the admin and do nothing.
    byId("enrolment").hidden = lost || !state.enrolment;
    byId("detail").textContent = lost
      ? "This screen cannot reach the door's box; retrying…"
      : state.detail || "";
    if (state.outcome && state.outcome.seq !== outcomeSeq) {
      outcomeSeq = state.outcome.seq;
      showOutcome(state.outcome.words, state.outcome.kind, state.outcome.left_s);
    }
    renderSessions();
    tick();
  }

  let shownMinute = null;

  function tick() {
    const minute = clockText(boxNow());
    byId("clock").textContent = minute;
    if (minute !== shownMinute) {
      shownMinute = minute;
      renderSessions(); // which session is next moves on with the clock
    }
    const elapsed = byId("elapsed");
    const known = !silent() && state.elapsed_s != null;
    elapsed.hidden = !known;
    if (known) {
      const since = state.running ? (performance.now() - heardAt) / 1000 : 0;
      elapsed.textContent = elapsedText(state.elapsed_s + since);
    }
    if (outcomeUntil && performance.now() >= outcomeUntil) {
      byId("outcome").hidden = true;
      outcomeUntil = 0;
    }
    if (silent() && body.dataset.state !== "disconnected") render();
  }

  function follow() {
    const events = new EventSource("/door/events");
    events.onmessage = (message) => {
      state = JSON.parse(message.data);
      heardAt = performance.now();
      offsetMs = state.now_ms - Date.now();
      render();
    };
    // The browser retries a broken stream by itself, but gives up for good on an
    // answer that is not a stream (a 503 while the box restarts): start again.
    events.onerror = () => {
      if (events.readyState === EventSource.CLOSED) {
        events.close();
        setTimeout(follow, 5000);
      }
    };
  }

  function pad() {
    const root = byId("pad");
    if (!root) return;
    const token = document.querySelector('meta[name="door-csrf"]').content;
    const length = Number(body.dataset.pinLength) || 0;
    const idleMs = Number(body.dataset.idleMs) || 10000;
    const shown = byId("pin");
    let digits = "";
    let idle = null;
    let sending = false;

    function show() {
      shown.textContent = "•".repeat(digits.length);
    }
    function wipe() {
      digits = "";
      clearTimeout(idle);
      show();
    }
    function press(digit) {
      if (sending || digits.length >= 32) return;
      digits += digit;
      show();
      clearTimeout(idle);
      idle = setTimeout(wipe, idleMs); // a half-typed PIN is not left on the screen
      if (length && digits.length >= length) submit();
    }
    function erase() {
      digits = digits.slice(0, -1);
      show();
    }
    async function submit() {
      if (!digits || sending) return;
      const pin = digits;
      wipe();
      sending = true;
      await post(root, "/door/pin", token, { pin: pin });
      sending = false;
    }

    root.addEventListener("click", (e) => {
      const button = e.target.closest("button");
      if (!button) return;
      if (button.dataset.digit) press(button.dataset.digit);
      else if (button.id === "pad-clear") wipe();
      else if (button.id === "pad-delete") erase();
      else if (button.id === "pad-ok") submit();
    });
    document.addEventListener("keydown", (e) => {
      if (/^[0-9]$/.test(e.key)) press(e.key);
      else if (e.key === "Backspace") erase();
      else if (e.key === "Escape") wipe();
      else if (e.key === "Enter") submit();
    });
  }

  // POST a form to the box with the page's token, the buttons of ``root`` off
  // meanwhile; the outcome comes on the event stream, so only a refusal or a lost
  // connection is shown from the answer here.
  async function post(root, path, token, fields) {
    root.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const answer = await fetch(path, {
        method: "POST",
        cache: "no-store",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "X-CSRF-Token": token,
        },
        body: new URLSearchParams(fields),
      });
      if (!answer.ok) {
        const said = await answer.json().catch(() => ({}));
        showOutcome(said.error || "Not accepted", "denied", OUTCOME_MS / 1000);
      }
    } catch (error) {
      showOutcome("No connection to the box", "offline", OUTCOME_MS / 1000);
    } finally {
      root.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  }

  // A camera preset button: the box runs preset:NAME; its outcome arrives on the
  // event stream like a PIN's, so only a refusal is shown from the answer here.
  function presets() {
    const root = byId("presets");
    if (!root) return;
    const token = document.querySelector('meta[name="door-csrf"]').content;
    let sending = false;

    async function send(name) {
      if (sending) return;
      sending = true;
      await post(root, "/door/preset", token, { preset: name });
      sending = false;
    }

    root.addEventListener("click", (e) => {
      const button = e.target.closest("button");
      if (button && button.dataset.preset) send(button.dataset.preset);
    });
  }

  render();
  setInterval(tick, 1000);
  follow();
  pad();
  presets();
})();
