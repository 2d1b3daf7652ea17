% rebase('layout.tpl', title=title, page_id='progress')
<h1>{{title}}</h1>
<section class="card" id="progress" data-health="/healthz">
  <p id="progress-state" role="status" aria-live="polite">Waiting for the box to go away…</p>
  <p class="muted">This page notices when the box restarts and when it answers again,
  then takes you to the login. It takes about a minute.</p>
</section>
