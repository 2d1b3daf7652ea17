% rebase('layout.tpl', title='Update', page_id='update')
<h1>Update</h1>
<section class="card">
  <p>This box runs version <strong>{{running}}</strong>.</p>
  % if last:
  <p id="update-result" class="{{'ok' if last['result'] == 'updated' else 'problem'}}"><strong>Last update: {{last['words']}}.</strong>
  % if last.get('version'):
  It runs {{last['version']}}.
  % end
  % if last.get('reason'):
  <br>{{last['reason']}}
  % end
  </p>
  % end
</section>
<section class="card">
  <h2>Install a package</h2>
  <p>Upload <code>ivs-accessory_VERSION_all.deb</code>. The box checks it (its name, a newer
  version, the signature when this box was set up to require one), installs it and restarts.
  If the new version does not come up within 60 s, the box goes back to the version it runs
  now. The settings and the audit log are kept either way.</p>
  <form method="post" action="/system/update" enctype="multipart/form-data">
    <input type="hidden" name="csrf" value="{{csrf}}">
    {{!w.text('package', 'Package (.deb)', kind='file', accept='.deb', required=True)}}
    {{!w.text('signature', 'Signature (.sig)', 'Only if this box was set up to take signed updates only.', kind='file', accept='.sig,.asc')}}
    {{!w.checkbox('allow_downgrade', 'Allow an older version (going back)')}}
    {{!w.text('password', 'Page password', kind='password', autocomplete='current-password', required=True)}}
    <div class="actions"><button type="submit" class="danger">Install and restart</button></div>
  </form>
</section>
