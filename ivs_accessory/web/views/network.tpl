% rebase('layout.tpl', title='Network', page_id='network')
<h1>Network</h1>
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
