% rebase('layout.tpl', title='Choose a new password')
<h1>Choose a new password</h1>
<p>The factory password must be replaced before the box can be configured.
Use at least 8 characters; the page stores only a salted hash of it.</p>
<form method="post" action="/password" class="card narrow">
  <input type="hidden" name="csrf" value="{{csrf}}">
  {{!w.text('new', 'New password', kind='password', autocomplete='new-password', required=True)}}
  {{!w.text('confirm', 'New password again', kind='password', autocomplete='new-password', required=True)}}
  <button type="submit">Save the password</button>
</form>
