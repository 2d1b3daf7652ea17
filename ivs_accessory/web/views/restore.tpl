% rebase('layout.tpl', title='Restore a backup', page_id='restore-preview')
<h1>Restore a backup</h1>
<section class="card" id="restore-preview">
  <p>Backup made {{backup.created or 'at an unknown time'}} by version {{backup.version or 'unknown'}},
  {{'with passwords (encrypted)' if backup.secrets else 'without passwords: this box keeps its own'}}.</p>
  % if has_changes:
  <table id="restore-changes">
    <thead><tr><th>Setting</th><th>Now</th><th>From the backup</th></tr></thead>
    <tbody>
    % for change in changes:
      <tr>
        <td><code>{{change.setting}}</code></td>
        % if change.secret:
        <td colspan="2">{{'kept (not in the backup)' if change.state == 'kept' else change.state}}</td>
        % else:
        <td>{{'(not set)' if change.before is None else change.before}}</td>
        <td>{{'(not set)' if change.after is None else change.after}}</td>
        % end
      </tr>
    % end
    </tbody>
  </table>
  % else:
  <p id="restore-nothing">The backup holds the settings this box has now: nothing would change.</p>
  % end
  % if network:
  <p>The network settings change ({{network}}): as on the Network page, the change is
  rolled back unless you confirm it from the new address in time.</p>
  % end
</section>
<form method="post" action="/system/restore/confirm" class="card">
  <input type="hidden" name="csrf" value="{{csrf}}">
  {{!w.text('restore_password', 'Page password', kind='password', autocomplete='current-password', required=True, submit_as='password')}}
  <div class="actions"><button type="submit">Restore</button> <a href="/system/backup">Cancel</a></div>
</form>
