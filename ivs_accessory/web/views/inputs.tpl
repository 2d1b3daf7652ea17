% rebase('layout.tpl', title='Inputs', page_id='inputs')
<h1>Inputs</h1>
<form method="post" action="/inputs" id="inputs-form">
<input type="hidden" name="csrf" value="{{csrf}}">
<section class="card wide">
  <h2>Input sources</h2>
  <p class="hint">Pick a device from the list of what is plugged in, or type a selector
  (<code>usb:VVVV:PPPP</code>, <code>name:…</code>, a <code>/dev/input/by-id/…</code> path).
  Empty keypad device = the first keypad found.</p>
  <div class="scroll"><table id="source-table" class="stack">
    <thead><tr><th>Name</th><th>Kind</th><th>Device / port</th><th>Options</th><th>State</th><th>Remove</th></tr></thead>
    <tbody>
    % for i, s in enumerate(sources):
      % row = 'source %s' % (s.get('name') or 'new')
      <tr data-source-row="{{i}}">
        <td data-label="Name"><input name="sname_{{i}}" value="{{s.get('name', '')}}"{{!w.invalid('sname_%d' % i)}} aria-label="Source name" placeholder="{{'new source' if not s.get('name') else ''}}" size="10"{{!' readonly' if s.get('name') in configured else ''}}>{{!w.error('sname_%d' % i, 'Name of ' + row)}}</td>
        <td data-label="Kind"><select name="skind_{{i}}"{{!w.invalid('skind_%d' % i)}} aria-label="Kind" data-kind-select>
          % for k in kinds:
          <option value="{{k}}"{{!' selected' if k == s.get('kind') else ''}}>{{k}}</option>
          % end
        </select>{{!w.error('skind_%d' % i, 'Kind of ' + row)}}</td>
        <td data-label="Device / port">
          <input name="sdevice_{{i}}" value="{{s.get('device', '')}}"{{!w.invalid('sdevice_%d' % i)}} list="evdev-devices" aria-label="Device" placeholder="device" data-kinds="keypad card_hid">{{!w.error('sdevice_%d' % i, 'Device of ' + row)}}
          <input name="sport_{{i}}" value="{{s.get('port', '')}}"{{!w.invalid('sport_%d' % i)}} list="serial-ports" aria-label="Serial port" placeholder="/dev/ttyUSB0" data-kinds="card_serial">{{!w.error('sport_%d' % i, 'Serial port of ' + row)}}
          <input name="sreader_{{i}}" value="{{s.get('reader', 'first')}}"{{!w.invalid('sreader_%d' % i)}} aria-label="PC/SC reader" placeholder="first, or part of its name" data-kinds="card_pcsc">{{!w.error('sreader_%d' % i, 'PC/SC reader of ' + row)}}
        </td>
        <td data-label="Options">
          <label data-kinds="keypad card_hid"><input type="checkbox" name="sgrab_{{i}}" value="true"{{!' checked' if s.get('grab', 'true') == 'true' else ''}}> grab</label>
          <label data-kinds="keypad"><input type="checkbox" name="sleds_{{i}}" value="true"{{!' checked' if s.get('leds', 'true') == 'true' else ''}}> LEDs</label>
          <span data-kinds="card_serial"><input name="sbaud_{{i}}" value="{{s.get('baud', '9600')}}"{{!w.invalid('sbaud_%d' % i)}} size="6" aria-label="Baud"> baud
          <select name="sframing_{{i}}"{{!w.invalid('sframing_%d' % i)}} aria-label="Framing">
            % for f in ('auto', 'line', 'em4100', 'wiegand'):
            <option{{!' selected' if f == s.get('framing', 'auto') else ''}}>{{f}}</option>
            % end
          </select></span>{{!w.error('sbaud_%d' % i, 'Baud of ' + row)}}{{!w.error('sframing_%d' % i, 'Framing of ' + row)}}
        </td>
        <td data-label="State">
          % st = status_sources.get(s.get('name', ''), None)
          % if st is None:
          —
          % else:
          {{'connected' if st.get('connected') else 'not connected'}}{{', grabbed' if st.get('grabbed') else ''}}
          % end
        </td>
        <td data-label="Remove">
          % if s.get('name'):
          <input type="checkbox" name="sremove_{{i}}" value="true" aria-label="Remove"{{!' checked' if s.get('remove') == 'true' else ''}}>
          % end
        </td>
      </tr>
    % end
    </tbody>
  </table></div>
  <datalist id="evdev-devices">
  % for d in devices:
    % if d.get('kind') not in ('serial', 'light'):
    <option value="{{d.get('selector', '')}}">{{d.get('name', '')}} ({{d.get('path', '')}}, {{d.get('kind', '')}})</option>
    % end
  % end
  </datalist>
  <datalist id="serial-ports">
  % for d in devices:
    % if d.get('kind') == 'serial':
    <option value="{{d.get('selector', '')}}">{{d.get('name', '')}} ({{d.get('path', '')}})</option>
    % end
  % end
  </datalist>
  <details>
    <summary>Devices present ({{len(devices)}})</summary>
    % if device_problem:
    <p class="error">{{device_problem}}</p>
    % end
    <table id="devices" class="stack">
      <thead><tr><th>Path</th><th>Name</th><th>Kind</th><th>Selector</th></tr></thead>
      <tbody>
      % for d in devices:
        <tr><td data-label="Path">{{d.get('path', '')}}</td><td data-label="Name">{{d.get('name', '')}}</td><td data-label="Kind">{{d.get('kind', '')}}</td><td data-label="Selector"><code>{{d.get('selector', '')}}</code>{{' — ' + d['error'] if d.get('error') else ''}}</td></tr>
      % end
      </tbody>
    </table>
    % if not devices:
    <p>No input device or serial port found (is the daemon's user in the input and dialout groups?).</p>
    % end
  </details>
</section>
<section class="card">
  <h2>PIN and card</h2>
  {{!w.select('mode', 'What starts a recording', [(m, {'pin': 'PIN only', 'card': 'Card only', 'both': 'PIN or card'}[m]) for m in modes])}}
  {{!w.text('pin_length', 'PIN length', 'Digits; the PIN is sent when this many are typed (0 = on Enter).', inputmode='numeric')}}
  {{!w.text('entry_timeout_ms', 'PIN timeout (ms)', 'A half-typed PIN is forgotten after this long without a key.', inputmode='numeric')}}
  {{!w.text('repeat_window_ms', 'Debounce (ms)', 'The same card again within this time is ignored.', inputmode='numeric')}}
  {{!w.text('hold_ms', 'Hold (ms)', 'A key held this long counts as a hold.', inputmode='numeric')}}
  {{!w.select('busy_action', 'PIN or card in a paused room', [('busy', 'refuse'), ('resume', 'resume'), ('stop', 'stop')])}}
  {{!w.select('match_reading', 'Card number as VALT knows it', readings)}}
  <p class="hint">Not sure which? <a href="/enrol" id="enrol-link">Enrolment mode</a>
  shows a card's every reading for 60 s and can write one to a VALT user.</p>
</section>
<section class="card">
  <h2>Lockout</h2>
  {{!w.text('max_failures', 'Wrong PINs/cards before a lockout', inputmode='numeric')}}
  {{!w.text('base_s', 'First lockout (s)', 'Doubles with each further lockout.', inputmode='numeric')}}
  {{!w.text('max_s', 'Longest lockout (s)', inputmode='numeric')}}
</section>
<section class="card wide">
  <h2>Key bindings</h2>
  <p class="hint">Keys that run an action without a PIN. Clear a key to remove its binding.</p>
  <table id="binding-table" class="stack">
    <thead><tr><th>Key</th><th>Tap / hold</th><th>Action</th></tr></thead>
    <tbody>
    % for i, b in enumerate(bindings):
      % row = 'binding %d' % (i + 1)
      <tr>
        <td data-label="Key"><input name="bkey_{{i}}" value="{{b['key']}}"{{!w.invalid('bkey_%d' % i)}} list="key-names" aria-label="Key" placeholder="KEY_…">{{!w.error('bkey_%d' % i, 'Key of ' + row)}}</td>
        <td data-label="Tap / hold"><select name="bgesture_{{i}}"{{!w.invalid('bgesture_%d' % i)}} aria-label="Tap or hold">
          % for g in ('tap', 'hold'):
          <option{{!' selected' if g == b['gesture'] else ''}}>{{g}}</option>
          % end
        </select>{{!w.error('bgesture_%d' % i, 'Tap / hold of ' + row)}}</td>
        <td data-label="Action"><select name="baction_{{i}}"{{!w.invalid('baction_%d' % i)}} aria-label="Action">
          <option value="">(none)</option>
          % # A preset:NAME binding from the file stays what it is when the form is saved.
          % extra = [b['action']] if b['action'] and b['action'] not in actions else []
          % for a in list(actions) + extra:
          <option{{!' selected' if a == b['action'] else ''}}>{{a}}</option>
          % end
        </select>{{!w.error('baction_%d' % i, 'Action of ' + row)}}</td>
      </tr>
    % end
    </tbody>
  </table>
  <datalist id="key-names">
  % for k in keys:
    <option value="{{k}}">
  % end
  </datalist>
</section>
<div class="actions"><button type="submit" id="save-inputs">Save</button></div>
</form>
<section class="card wide" id="events" data-poll="/inputs/events.json">
  <h2>Live input</h2>
  <p class="hint">What the readers send, as it arrives, and what came of it: digits and card
  numbers are masked.</p>
  <table class="stack" id="event-table">
    <thead><tr><th>Time</th><th>Source</th><th>Event</th><th>Result</th></tr></thead>
    <tbody id="event-rows" aria-live="polite"><tr class="empty"><td colspan="4">Waiting for a key or card…</td></tr></tbody>
  </table>
</section>
