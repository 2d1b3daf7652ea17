% rebase('layout.tpl', title='VALT', page_id='valt')
<h1>VALT</h1>
<form method="post" action="/valt" class="card" id="valt-form">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <h2>Server</h2>
  {{!w.text('server', 'Server', 'A host, host:port or URL; include https:// for TLS.', placeholder='https://valt.example.com')}}
  {{!w.text('username', 'User name', 'A VALT account allowed to record in the room (administrator for the version check).', autocomplete='off')}}
  {{!w.text('password', 'Password', 'Never shown again; leave empty to keep the saved one.' if has_password else 'No password saved yet.', kind='password', autocomplete='new-password', placeholder='(unchanged)' if has_password else '')}}
  % if has_password:
  {{!w.checkbox('clear_password', 'Remove the saved password')}}
  % end
  {{!w.text('timeout_s', 'Timeout (seconds)', '0.5 to 60 seconds for each VALT request.', inputmode='decimal')}}
  {{!w.checkbox('verify_tls', 'Check the server\'s TLS certificate')}}
  {{!w.text('ca_file', 'CA file', 'A PEM file with the CA that signed a private certificate (optional).')}}
  <div class="actions">
    <button type="button" id="test-connection" data-url="/valt/test">Test connection</button>
    <span id="test-result" role="status" aria-live="polite"></span>
  </div>
  <h2>Room</h2>
  <div class="field">
    <label for="room-picker">Room from VALT's list</label>
    <select id="room-picker" disabled><option value="">(test the connection to load the rooms)</option></select>
  </div>
  {{!w.text('room', 'Room id', 'The VALT room this door controls.', inputmode='numeric')}}
  <h2>Recordings and markers</h2>
  {{!w.text('recording_name', 'Recording name')}}
  {{!w.text('marker_name', 'Marker name')}}
  {{!w.select('marker_colour', 'Marker colour', colours, 'VALT 6 shows comments without a colour.')}}
  <div class="actions"><button type="submit">Save</button></div>
</form>
