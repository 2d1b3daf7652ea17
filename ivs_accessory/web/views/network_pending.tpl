% rebase('layout.tpl', title='Network change', page_id='network-pending')
<h1>Network change applied</h1>
<section class="card" id="network-trial" data-new-url="{{new_url or ''}}">
  <p>{{summary}}.</p>
  % if new_url:
  <p>Open <a href="{{new_url}}/network/confirm" id="new-address">{{new_url}}/network/confirm</a>
  and confirm within <span data-countdown="{{timeout_s}}">{{timeout_s}}</span> seconds.
  This page moves there by itself once the box answers at the new address.</p>
  % else:
  <p>The box now asks the DHCP server for an address. Find the new address (the DHCP
  server's lease list), open <code>http://&lt;address&gt;/network/confirm</code>, log in and
  confirm within <span data-countdown="{{timeout_s}}">{{timeout_s}}</span> seconds.</p>
  % end
  <p>Without a confirmation the previous settings come back by themselves.</p>
</section>
