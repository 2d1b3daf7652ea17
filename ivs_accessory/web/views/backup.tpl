% rebase('layout.tpl', title='Backup and restore', page_id='backup')
<h1>Backup and restore</h1>
<section class="card" id="backup">
  <h2>Download a backup</h2>
  <p>One file with the configuration (with its drop-ins), the bindings, the time and
  the network settings. Passwords (VALT, cameras, this page's) are left out unless you
  give a passphrase: then they are in, and the whole file is encrypted with it. Keep
  the passphrase: without it the file cannot be read.</p>
  <form method="post" action="/system/backup">
    <input type="hidden" name="csrf" value="{{csrf}}">
    {{!w.text('passphrase', 'Passphrase (optional)', 'At least 8 characters; empty = a backup without passwords.', kind='password', autocomplete='new-password')}}
    {{!w.text('passphrase_again', 'Passphrase again', kind='password', autocomplete='new-password')}}
    {{!w.text('backup_password', 'Page password', kind='password', autocomplete='current-password', required=True, submit_as='password')}}
    <div class="actions"><button type="submit">Download the backup</button></div>
  </form>
</section>
<section class="card" id="restore">
  <h2>Restore a backup</h2>
  <p>Upload a backup of this box or of another one (to set up a new box the same way).
  Every value is checked first; the next page shows what would change, and nothing
  changes until you confirm there.</p>
  <form method="post" action="/system/restore" enctype="multipart/form-data">
    <input type="hidden" name="csrf" value="{{csrf}}">
    {{!w.text('backup_file', 'Backup file', kind='file', accept='.json,application/json', required=True)}}
    {{!w.text('restore_passphrase', 'Passphrase', 'Only for an encrypted backup.', kind='password', autocomplete='off')}}
    <div class="actions"><button type="submit">Check the backup</button></div>
  </form>
</section>
