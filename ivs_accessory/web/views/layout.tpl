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
% if pending:
<div class="banner warn" id="network-pending">
  Network change waiting for confirmation ({{pending['summary']}}): it is undone in
  <span data-countdown="{{int(pending['remaining_s'])}}">{{int(pending['remaining_s'])}}</span> s.
  <a href="/network/confirm">Confirm it</a>
</div>
% end
% if flash:
<div class="banner ok" role="status" id="flash">{{flash}}</div>
% end
% for problem in get('problems', []):
<div class="banner bad" role="alert">{{problem}}</div>
% end
{{!base}}
</main>
<footer>ivs-accessory {{version}}</footer>
</body>
</html>
