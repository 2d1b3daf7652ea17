% rebase('layout.tpl', title='Time', page_id='time')
<h1>Time</h1>
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
