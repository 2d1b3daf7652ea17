% rebase('layout.tpl', title='Status', page_id='status')
<h1>Status</h1>
<div id="live" data-poll="/status.json" data-every="{{poll_s}}">
<section class="card">
  <h2>Room</h2>
  <p class="big"><span data-live="room.words" id="room-status" data-status="{{s['room']['status']}}">{{s['room']['words']}}</span></p>
  <p>Room <span data-live="room.id">{{s['room']['id'] if s['room']['id'] is not None else '(none)'}}</span></p>
</section>
<section class="card">
  <h2>VALT</h2>
  <dl>
    <dt>Server</dt><dd data-live="valt.server">{{s['valt']['server']}}</dd>
    <dt>Connection</dt><dd data-live="valt.state" id="valt-state">{{s['valt']['state']}}</dd>
    <dt>Version</dt><dd data-live="valt.version">{{s['valt']['version']}}</dd>
    <dt>Last error</dt><dd data-live="valt.last_error" id="valt-error">{{s['valt']['last_error'] or 'none'}}</dd>
  </dl>
</section>
<section class="card wide">
  <h2>Input devices</h2>
  <table id="sources">
    <thead><tr><th>Source</th><th>Device</th><th>Connected</th><th>Grabbed</th><th>Problem</th></tr></thead>
    <tbody data-rows="sources" data-cols="name device connected grabbed problem">
    % for r in s['sources']:
      <tr><td>{{r['name']}}</td><td>{{r['device']}}</td><td>{{r['connected']}}</td><td>{{r['grabbed']}}</td><td>{{r['problem']}}</td></tr>
    % end
    </tbody>
  </table>
  % if not s['sources']:
  <p>No input source is configured: add one on the <a href="/inputs">Inputs</a> page.</p>
  % end
</section>
<section class="card wide">
  <h2>Last 20 inputs</h2>
  <table id="audit">
    <thead><tr><th>Time</th><th>Source</th><th>Card / PIN</th><th>Result</th><th>What happened</th></tr></thead>
    <tbody data-rows="audit" data-cols="time source credential result message">
    % for r in s['audit']:
      <tr><td>{{r['time']}}</td><td>{{r['source']}}</td><td>{{r['credential']}}</td><td>{{r['result']}}</td><td>{{r['message']}}</td></tr>
    % end
    </tbody>
  </table>
</section>
<p class="muted">Up for <span data-live="uptime">{{s['uptime']}}</span> ·
  <span data-live="events">{{s['events']}}</span> input events ·
  refreshed every {{poll_s}} s <span id="live-state"></span></p>
</div>
