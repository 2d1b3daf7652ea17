% rebase('layout.tpl', title='Time', page_id='time')
<h1>Time</h1>
<section class="card" id="box-clock">
  <h2>The box's clock</h2>
  <p class="big"><time id="clock-now" data-epoch="{{clock['epoch']}}" data-zone="{{clock['zone']}}">{{clock['time']}}</time>
  <span id="clock-abbreviation">{{clock['abbreviation']}}</span></p>
  <p>Time zone in use: <strong id="clock-zone">{{clock['zone'] or clock['abbreviation'] or 'unknown'}}</strong>.
  A wrong clock puts wrong times in the audit log; NTP servers keep it right.</p>
</section>
<form method="post" action="/time" class="card">
  <input type="hidden" name="csrf" value="{{csrf}}">
  {{!w.text('timezone', 'Time zone', 'For example Europe/Berlin or America/New_York.', list='zones', autocomplete='off')}}
  <datalist id="zones">
  % for zone in zones:
    <option value="{{zone}}">
  % end
  </datalist>
  {{!w.text('ntp_servers', 'NTP servers', 'Host names or addresses, separated by spaces; empty = the system default.')}}
  {{!w.text('password', 'Page password', 'Asked again for time changes.', kind='password', autocomplete='current-password', required=True)}}
  <div class="actions"><button type="submit">Apply</button></div>
</form>
