% rebase('layout.tpl', title='Confirm the network change', page_id='network-confirm')
<h1>Confirm the network change</h1>
% if get('problem'):
<div class="banner bad" role="alert">{{problem}}</div>
% end
% if trial:
<form method="post" action="/network/confirm" class="card">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <p>{{trial['summary']}}. You reached the box at <strong>{{host}}</strong>.</p>
  <p>Without confirmation the previous settings come back in
  <span data-countdown="{{int(trial['remaining_s'])}}">{{int(trial['remaining_s'])}}</span> s.</p>
  <button type="submit" id="keep-network">Keep the new settings</button>
</form>
% else:
<p>No network change is waiting for confirmation. <a href="/network">Network settings</a></p>
% end
