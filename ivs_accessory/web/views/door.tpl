<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{s['title']}} · door</title>
<link rel="stylesheet" href="/static/door.css">
<script src="/static/door.js" defer></script>
% if pad or presets:
<meta name="door-csrf" content="{{door_csrf}}">
% end
</head>
<body class="door" data-state="{{s['state']}}" data-pad="{{'on' if pad else 'off'}}"
      data-presets="{{'on' if presets else 'off'}}"
      data-pin-length="{{pin_length}}" data-idle-ms="{{idle_ms}}">
<header class="top">
  <h1 id="room">{{s['title']}}</h1>
  <time id="clock"></time>
</header>
<main class="door-main">
  <section id="status" class="status" aria-live="polite">
    <p id="enrolment" class="enrolment"{{!'' if s['enrolment'] else ' hidden'}}>Enrolment</p>
    <p id="state" class="state">{{s['words']}}</p>
    <p id="elapsed" class="elapsed" hidden></p>
    <p id="detail" class="detail">{{s['detail']}}</p>
    <p id="outcome" class="outcome" role="status" hidden></p>
  </section>
  <section id="today" class="today" aria-labelledby="today-title">
    <h2 id="today-title">Today</h2>
    <ol id="sessions">
    % for row in s['schedule']['sessions']:
      <li data-when="{{row['when']}}"><span class="time">{{row['start']}}–{{row['stop']}}</span><span class="name">{{row['name']}}</span></li>
    % end
    </ol>
    <p id="schedule-note" class="note">{{s['schedule']['note']}}</p>
  </section>
  % if pad:
  <section id="pad" class="pad" aria-label="PIN pad">
    <output id="pin" class="pin" data-empty="Enter PIN"></output>
    <div class="keys">
      % for digit in "123456789":
      <button type="button" data-digit="{{digit}}">{{digit}}</button>
      % end
      <button type="button" id="pad-clear" class="aux">Clear</button>
      <button type="button" data-digit="0">0</button>
      <button type="button" id="pad-delete" class="aux" aria-label="Delete">Delete</button>
      % if not pin_length:
      <button type="button" id="pad-ok" class="ok">OK</button>
      % end
    </div>
  </section>
  % end
  % if presets:
  <section id="presets" class="presets" aria-label="Camera presets">
    % for name in presets:
    <button type="button" data-preset="{{name}}">{{name}}</button>
    % end
  </section>
  % end
</main>
<script type="application/json" id="door-state">{{!initial}}</script>
</body>
</html>
