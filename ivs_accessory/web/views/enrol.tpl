% rebase('layout.tpl', title='Enrolment', page_id='enrol')
<h1>Enrolment</h1>
% if not on:
<section class="card wide" id="enrol-off">
  <h2>Find a card's number</h2>
  <p>For {{duration_s}} s, every PIN and card read at the door is shown here whole, with
  every reading of it; the one <code>match_reading</code> ({{match_reading}}) compares
  with VALT is marked, with the VALT user it matches. Reads then open nothing, start
  nothing: each is only shown. A reading can be written to a VALT user's card number.
  The mode ends by itself; outside it, card numbers are always masked.</p>
  <form method="post" action="/enrol/start">
    <input type="hidden" name="csrf" value="{{csrf}}">
    {{!w.text('password', 'Page password', 'Asked again: this shows whole card numbers.', kind='password', autocomplete='current-password', required=True)}}
    <div class="actions"><button type="submit" id="enrol-start">Start enrolment mode</button></div>
  </form>
</section>
% else:
<section class="card wide" id="enrol-on" data-poll="/enrol/reads.json" data-last-seq="{{last_seq}}">
  <h2>Enrolment mode is on</h2>
  <p>Ends in <span id="enrol-left" data-countdown="{{left_s}}">{{left_s}}</span> s.
  Present a card or type a PIN at the door: it is shown below and does nothing else.
  The reading marked ★ is the one <code>match_reading</code> ({{match_reading}}) uses.</p>
  <form method="post" action="/enrol/stop" class="inline">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <button type="submit" id="enrol-stop">Stop</button>
  </form>
  <p id="enrol-new" class="hint" hidden>New reads: <a href="/enrol">show them</a>.</p>
  % if not reads:
  <p id="enrol-waiting">Waiting for a card or PIN…</p>
  % end
  % for r in reversed(reads):
  <article class="read" id="read-{{r['seq']}}" data-seq="{{r['seq']}}">
    <h3>{{r['clock']}} · {{r['source']}} · {{r['kind']}}</h3>
    % if r['readings']:
    <table class="readings">
      <thead><tr><th>Reading</th><th>Value</th><th></th></tr></thead>
      <tbody>
      % for x in r['readings']:
        <tr{{!' class="marked"' if x['marked'] else ''}}><td>{{x['name']}}</td><td><code class="whole">{{x['value']}}</code></td><td>{{'★ match_reading' if x['marked'] else ''}}</td></tr>
      % end
      </tbody>
    </table>
    % end
    % if r['problem']:
    <p class="error">{{r['problem']}}</p>
    % elif r['readings']:
    % u = r['user']
    <p class="owner">VALT user: {{('%s (%s, id %d)' % (u['display'] or u['name'], u['name'], u['id'])) if u else 'nobody in VALT has this number'}}</p>
    % end
    % if r['written']:
    <p class="written">Written: {{r['written']['reading']}} is now the card number of {{r['written']['display'] or r['written']['name']}}.</p>
    % end
    % if r['readings']:
    <form method="post" action="/enrol/write" class="write">
      <input type="hidden" name="csrf" value="{{csrf}}">
      <input type="hidden" name="read" value="{{r['seq']}}">
      <label>Reading <select name="reading">
        % for x in r['readings']:
        <option value="{{x['name']}}"{{!' selected' if x['marked'] else ''}}>{{x['name']}}</option>
        % end
      </select></label>
      % if users:
      <label>VALT user <select name="user" required>
        <option value="">Choose a user</option>
        % for uid, label in users:
        <option value="{{uid}}">{{label}}</option>
        % end
      </select></label>
      % else:
      <label>VALT user id <input name="user" inputmode="numeric" size="6" required></label>
      % end
      <button type="submit">Write to the user's card number</button>
      % if write_error and write_error['seq'] == r['seq']:
      <p class="error" id="write-error" role="alert">{{write_error['words']}}</p>
      % end
    </form>
    % end
  </article>
  % end
  % if write_error and not any(write_error['seq'] == r['seq'] for r in reads):
  <p class="error" id="write-error" role="alert">{{write_error['words']}}</p>
  % end
</section>
% end
