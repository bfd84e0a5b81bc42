/**
 * The HTML and browser scripts of `/docs`. No inline scripts (a same-origin CSP holds) and
 * no other host: Swagger UI's assets come from `swagger-ui-dist` on disk, the socket
 * reference is rendered by a small script from `/asyncapi.json`.
 */

const page = (title: string, head: string, body: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/docs/docs.css">
${head}
</head>
<body>
<nav class="docs-nav"><strong>Vet consultation gateway</strong>
<a href="/docs">REST (OpenAPI)</a> <a href="/docs/sockets">Sockets (AsyncAPI)</a>
<a href="/openapi.json">openapi.json</a> <a href="/asyncapi.json">asyncapi.json</a></nav>
${body}
</body>
</html>
`;

/** `/docs`: Swagger UI over `/openapi.json`. */
export const restPage = page(
  "API reference — REST",
  '<link rel="stylesheet" href="/docs/assets/swagger-ui.css">',
  '<div id="swagger-ui"></div>\n<script src="/docs/assets/swagger-ui-bundle.js"></script>\n<script src="/docs/rest.js"></script>',
);

/** `/docs/sockets`: the AsyncAPI document rendered by `sockets.js`. */
export const socketsPage = page(
  "API reference — sockets",
  "",
  '<main id="asyncapi" class="asyncapi">Loading /asyncapi.json…</main>\n<script src="/docs/sockets.js"></script>',
);

/** Starts Swagger UI; `validatorUrl: null` keeps it from calling validator.swagger.io. */
export const restScript = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
});
`;

export const css = `body { margin: 0; font-family: system-ui, sans-serif; }
.docs-nav { display: flex; gap: 1.2em; align-items: center; padding: .6em 1.2em; background: #1b2a3a; color: #fff; }
.docs-nav a { color: #9cd3ff; }
.asyncapi { max-width: 1100px; margin: 1em auto; padding: 0 1em; }
.asyncapi section { border-top: 1px solid #ddd; padding: .5em 0; }
.asyncapi h3 code { font-size: 1em; }
.asyncapi .dir { display: inline-block; min-width: 9em; font-size: .85em; color: #555; }
.asyncapi pre { background: #f6f8fa; padding: .6em; overflow: auto; font-size: .85em; }
`;

/** Renders channels, operations and message schemas of `/asyncapi.json` with DOM calls only. */
export const socketsScript = `(function () {
  function el(tag, text, cls) { var e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; }
  function deref(doc, v) {
    while (v && v.$ref) { v = v.$ref.slice(2).split("/").reduce(function (o, k) { return o[k.replace(/~1/g, "/").replace(/~0/g, "~")]; }, doc); }
    return v;
  }
  function schemaBlock(doc, schema) {
    var seen = {};
    var text = JSON.stringify(schema, function (k, v) {
      if (v && typeof v === "object" && v.$ref && !seen[v.$ref]) { seen[v.$ref] = true; return deref(doc, v); }
      return v;
    }, 2);
    return el("pre", text);
  }
  fetch("/asyncapi.json").then(function (r) { return r.json(); }).then(function (doc) {
    var root = document.getElementById("asyncapi");
    root.textContent = "";
    root.appendChild(el("h1", doc.info.title + " " + doc.info.version));
    root.appendChild(el("p", doc.info.description));
    Object.keys(doc.channels).forEach(function (name) {
      var ch = doc.channels[name];
      root.appendChild(el("h2", "Channel " + ch.address));
      root.appendChild(el("p", ch.description));
      Object.keys(doc.operations).forEach(function (id) {
        var op = doc.operations[id];
        if (op.channel.$ref !== "#/channels/" + name) return;
        var msg = deref(doc, op.messages[0]);
        var s = el("section");
        var h = el("h3");
        h.appendChild(el("span", op.action === "receive" ? "client → server" : "server → client", "dir"));
        h.appendChild(el("code", msg.name));
        s.appendChild(h);
        s.appendChild(el("p", op.summary || msg.summary || ""));
        s.appendChild(el("h4", "Payload"));
        s.appendChild(schemaBlock(doc, msg.payload));
        if (op.reply) {
          s.appendChild(el("h4", "Acknowledgement"));
          s.appendChild(schemaBlock(doc, deref(doc, op.reply.messages[0]).payload));
        }
        root.appendChild(s);
      });
    });
  }).catch(function (err) { document.getElementById("asyncapi").textContent = "Could not load /asyncapi.json: " + err; });
})();
`;
