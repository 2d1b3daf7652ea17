<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · IVS accessory</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
% if session:
<meta name="csrf-token" content="{{csrf}}">
% end
</head>
<body data-page="{{get('page_id', '')}}">
<header>
  <span class="brand">IVS accessory</span>
  % if session and not session.must_change:
  <nav>
    % for href, label in nav:
    <a href="{{href}}"{{!' aria-current="page"' if href == path else ''}}>{{label}}</a>
    % end
    <form method="post" action="/logout" class="inline">
      <input type="hidden" name="csrf" value="{{csrf}}">
      <button type="submit" class="link">Log out</button>
    </form>
  </nav>
  % end
</header>
<main>
% if notices:
%   safe = notices['safe_mode']
%   if safe:
<div class="banner bad" id="safe-mode" role="alert">
  <p><strong>Safe mode.</strong> The saved configuration has errors; the daemon runs in
  safe mode until they are fixed. Fix these settings:</p>
  <ul>
  % for error in safe['errors']:
    <li>{{error['text']}} (<a href="{{error['href']}}">{{error['page']}} page</a>)</li>
  % end
  </ul>
  % if safe['last_good']:
  <form method="post" action="/safe-mode/restore" class="inline">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <button type="submit" id="restore-last-good">Go back to the last configuration that worked</button>
  </form>
  % end
</div>
%   end
<div class="banner bad" id="valt-alert" role="alert"{{!'' if notices['valt'] else ' hidden'}}>
  <span id="valt-alert-text">{{notices['valt']}}</span> <a href="/valt">Open the VALT page</a>
</div>
%   if notices['rollback']:
<div class="banner warn" id="network-rolled-back" role="status">{{notices['rollback']}}
  <a href="/network">Network settings</a></div>
%   end
% end
% if pending:
<div class="banner warn" id="network-pending">
  Network change waiting for confirmation ({{pending['summary']}}): it is undone in
  <span data-countdown="{{int(pending['remaining_s'])}}">{{int(pending['remaining_s'])}}</span> s.
  <a href="/network/confirm">Confirm it</a>
</div>
% end
% if flash:
<div class="banner {{flash[1]}}" role="{{'alert' if flash[1] == 'bad' else 'status'}}" id="flash">{{flash[0]}}</div>
% end
% marked, loose, problems = w.shown, w.unshown(), get('problems', [])
% if marked or loose or problems:
<div class="banner bad sticky" role="alert" id="form-problems">
  % for problem in problems + loose:
  <p>{{problem}}</p>
  % end
  % if marked:
  <p>Not done: fix the marked field{{'s' if len(marked) > 1 else ''}}:
  % for i, (name, label) in enumerate(marked):
  <a href="#{{name}}" data-field="{{name}}">{{label}}</a>{{', ' if i < len(marked) - 1 else '.'}}
  % end
  </p>
  % end
</div>
% end
{{!base}}
</main>
<footer>ivs-accessory {{version}}</footer>
</body>
</html>
