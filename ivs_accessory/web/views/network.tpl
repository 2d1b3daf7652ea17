% rebase('layout.tpl', title='Network', page_id='network')
<h1>Network</h1>
<section class="card" id="network-now">
  <h2>In use now on {{interface}}</h2>
  <dl>
    <dt>Address</dt><dd id="current-address">{{', '.join(now['addresses']) or 'none'}}</dd>
    <dt>Gateway</dt><dd id="current-gateway">{{now['gateway'] or 'none'}}</dd>
    <dt>DNS servers</dt><dd id="current-dns">{{' '.join(now['dns']) or 'none'}}</dd>
  </dl>
  % if now['problem']:
  <p class="error">{{now['problem']}}</p>
  % end
  % if rolled_back:
  <p class="note" id="last-rollback">{{rolled_back}}</p>
  % end
</section>
<form method="post" action="/network" class="card" id="network-form">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <p>Interface <strong>{{interface}}</strong>. A change is tried first: unless a browser
  confirms it from the new address in time, the previous settings come back by themselves.</p>
  {{!w.select('mode', 'Addressing', [('dhcp', 'Automatic (DHCP)'), ('static', 'Static address')])}}
  <fieldset data-show-when="mode=static">
    {{!w.text('address', 'Address / prefix', 'For example 192.168.1.50/24.')}}
    {{!w.text('gateway', 'Gateway', 'For example 192.168.1.1 (optional).')}}
    {{!w.text('dns', 'DNS servers', 'Addresses separated by spaces (optional).')}}
  </fieldset>
  {{!w.text('password', 'Page password', 'Asked again for network changes.', kind='password', autocomplete='current-password', required=True)}}
  <div class="actions"><button type="submit">Apply and test</button></div>
</form>
