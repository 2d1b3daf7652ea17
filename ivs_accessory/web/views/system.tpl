% rebase('layout.tpl', title='System', page_id='system')
<h1>System</h1>
<section class="card">
  <h2>Page password</h2>
  <form method="post" action="/system/password">
    <input type="hidden" name="csrf" value="{{csrf}}">
    {{!w.text('current', 'Current password', kind='password', autocomplete='current-password', required=True)}}
    {{!w.text('new', 'New password', 'At least 8 characters.', kind='password', autocomplete='new-password', required=True)}}
    {{!w.text('confirm', 'New password again', kind='password', autocomplete='new-password', required=True)}}
    <div class="actions"><button type="submit">Change the password</button></div>
  </form>
</section>
<section class="card">
  <h2>Logs</h2>
  <p><a href="/system/logs.txt" download>Download the daemon's log</a></p>
  <p><a href="/system/audit.log" download>Download the audit log</a> (who started or stopped what; card numbers masked)</p>
</section>
<section class="card">
  <h2>Update</h2>
  <p><a href="/system/update">Install a new version</a> from a package file (.deb); the box
  goes back by itself if the new version does not come up.</p>
  <h2>Backup and restore</h2>
  <p><a href="/system/backup">Back up the settings, or restore them from a file</a>
  (also how a new box is set up like this one)</p>
</section>
<section class="card">
  <h2>Restart</h2>
  <form method="post" action="/system/reboot">
    <input type="hidden" name="csrf" value="{{csrf}}">
    {{!w.text('reboot_password', 'Page password', kind='password', autocomplete='current-password', required=True, submit_as='password')}}
    <div class="actions"><button type="submit" class="danger">Restart the box</button></div>
  </form>
</section>
<section class="card">
  <h2>Factory default</h2>
  <p>Restores every setting, the page password, the network and the time to the factory
  state, removes added files such as certificates, and restarts. The box may come back at another address. The audit log is kept
  (it is the record of who recorded what); download it above first if you need a copy
  elsewhere.</p>
  <form method="post" action="/system/factory-default">
    <input type="hidden" name="csrf" value="{{csrf}}">
    {{!w.text('words', 'Type "%s" to confirm' % factory_words, autocomplete='off', required=True)}}
    {{!w.text('factory_password', 'Page password', kind='password', autocomplete='current-password', required=True, submit_as='password')}}
    <div class="actions"><button type="submit" class="danger">Restore the factory settings</button></div>
  </form>
</section>
