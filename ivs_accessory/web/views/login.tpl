% rebase('layout.tpl', title='Log in')
<h1>Log in</h1>
% if error:
<div class="banner bad" role="alert" id="login-error">{{error}}</div>
% end
<form method="post" action="/login" class="card narrow">
  <input type="hidden" name="csrf" value="{{login_csrf}}">
  <input type="hidden" name="next" value="{{next}}">
  <div class="field"><label for="username">User name</label>
    <input id="username" name="username" value="admin" autocomplete="username" required></div>
  <div class="field"><label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required autofocus></div>
  <button type="submit">Log in</button>
</form>
