% rebase('layout.tpl', title='Status', page_id='status')
<h1>Status</h1>
<div id="live" data-poll="/status.json" data-every="{{poll_s}}">
% setup = s['setup']
% if setup['show']:
<section class="card wide" id="checklist" aria-live="polite">
  <h2>First steps</h2>
  <p class="hint">Each step ticks by itself once the box sees it done.</p>
  <ol class="checklist">
  % for step in setup['steps']:
    <li data-step="{{step['id']}}" data-done="{{'true' if step['done'] else 'false'}}">
      <span class="tick" aria-hidden="true"></span>
      <span class="step"><a href="{{step['href']}}">{{step['label']}}</a>
      <span class="visually-hidden" data-step-state>{{'done' if step['done'] else 'not done yet'}}</span>
      <small class="detail" data-step-detail>{{step['detail']}}</small></span>
    </li>
  % end
  </ol>
</section>
% end
<section class="card" id="room-card" aria-live="polite">
  <h2>Room</h2>
  <p class="big"><span data-live="room.words" id="room-status" data-status="{{s['room']['status']}}">{{s['room']['words']}}</span></p>
  <p data-live="room.details" id="room-details">{{s['room']['details']}}</p>
  <p data-live="room.title" id="room-title">{{s['room']['title']}}</p>
</section>
<section class="card" id="valt-card" aria-live="polite">
  <h2>VALT</h2>
  <dl>
    <dt>Server</dt><dd data-live="valt.server">{{s['valt']['server']}}</dd>
    <dt>Connection</dt><dd data-live="valt.state" id="valt-state" data-state="{{s['valt']['code']}}">{{s['valt']['state']}}</dd>
    <dt>Version</dt><dd data-live="valt.version">{{s['valt']['version']}}</dd>
    <dt>Last error</dt><dd data-live="valt.last_error" id="valt-error">{{s['valt']['last_error'] or 'none'}}</dd>
  </dl>
</section>
<section class="card wide">
  <h2>Input devices</h2>
  <table id="sources" class="stack">
    <thead><tr><th>Source</th><th>Device</th><th>Connected</th><th>Grabbed</th><th>Problem</th></tr></thead>
    <tbody data-rows="sources" data-cols="name device connected grabbed problem">
    % for r in s['sources']:
      <tr><td data-label="Source">{{r['name']}}</td><td data-label="Device">{{r['device']}}</td><td data-label="Connected">{{r['connected']}}</td><td data-label="Grabbed">{{r['grabbed']}}</td><td data-label="Problem">{{r['problem']}}</td></tr>
    % end
    </tbody>
  </table>
  % if not s['sources']:
  <p>No input source is configured: add one on the <a href="/inputs">Inputs</a> page.</p>
  % end
  % if s['lamp']:
  <p id="lamp">Recording lamp: <span data-live="lamp">{{s['lamp']}}</span></p>
  % end
  % if s['cameras']:
  <p id="cameras">Cameras: <span data-live="cameras">{{s['cameras']}}</span></p>
  % end
</section>
<section class="card wide">
  <h2>Last 20 inputs</h2>
  <table id="audit" class="stack">
    <thead><tr><th>Time</th><th>Source</th><th>Card / PIN</th><th>Result</th><th>What happened</th></tr></thead>
    <tbody data-rows="audit" data-cols="time source credential result message">
    % for r in s['audit']:
      <tr><td data-label="Time">{{r['time']}}</td><td data-label="Source">{{r['source']}}</td><td data-label="Card / PIN">{{r['credential']}}</td><td data-label="Result">{{r['result']}}</td><td data-label="What happened">{{r['message']}}</td></tr>
    % end
    </tbody>
  </table>
</section>
<p class="muted">Up for <span data-live="uptime">{{s['uptime']}}</span> ·
  <span data-live="events_words">{{s['events_words']}}</span> ·
  refreshed every {{poll_s}} s <span id="live-state"></span></p>
</div>
