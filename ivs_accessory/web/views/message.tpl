% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<p>{{message}}</p>
<p><a href="/">Back to the status page</a></p>
