// webhook_receiver.mjs — a webhook receiver for tests/integration/test_webhooks.py that checks
// every delivery with the `standardwebhooks` npm package (the reference implementation of the
// Standard Webhooks specification), independently of feedbackd's own signing code.
//
// node webhook_receiver.mjs  -> prints {"port": N} on stdout, then serves on 127.0.0.1:N:
//   POST /_config {"path": "/a", "secret": "whsec_...", "mode": "ok"|"fail"|"hang", "snippet": js?}
//        deliveries to /a are verified with that secret and answered 204 (ok), 500 (fail) or
//        never (hang: the connection is held open until the receiver exits)
//   GET  /_received?path=/a  -> [{"verified", "error", "id", "timestamp", "signature", "body",
//        "mode", "event", "tamperedError"}] in arrival order, every attempt, answered or not
//
// A snippet (test_readme_integrate.py: the README's verification example, as written) verifies
// instead of the receiver's own call: its `import { A, B as C } from "pkg"` lines are resolved
// here, the rest is the body of a function of (rawBody, request) — the delivery's body as a
// string and its node http request — run with process.env.FEEDBACKD_WEBHOOK_SECRET set to the
// path's secret, and what it leaves in `event` is recorded. It runs a second time on the body
// with a field added (tamperedError: what it threw then; null if it accepted the forgery).
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const paths = new Map(); // path -> {secret, mode, verify?, received: []}
const held = [];

const IMPORT = /^[ \t]*import\s*\{([^}]*)\}\s*from\s*["']([^"']+)["'];?[^\n]*$/gm;

async function compileSnippet(code) {
  const specs = [...code.matchAll(IMPORT)];
  const names = [];
  const values = [];
  for (const [, list, spec] of specs) {
    const mod = await import(spec);
    for (const item of list.split(",").map((s) => s.trim()).filter(Boolean)) {
      const [exported, local = exported] = item.split(/\s+as\s+/);
      if (!(exported in mod)) throw new Error(`${spec} exports no ${exported}`);
      names.push(local);
      values.push(mod[exported]);
    }
  }
  const fn = new Function(...names, "rawBody", "request", code.replace(IMPORT, "") + "\nreturn event;");
  return (secret, rawBody, request) => {
    process.env.FEEDBACKD_WEBHOOK_SECRET = secret;
    return fn(...values, rawBody, request);
  };
}

function errorText(e) {
  return String(e && e.message ? e.message : e);
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  const body = await readBody(req);
  if (url.pathname === "/_config" && req.method === "POST") {
    const c = JSON.parse(body);
    const entry = paths.get(c.path) ?? { received: [] };
    let verify = entry.verify;
    if (c.snippet !== undefined) {
      try {
        verify = await compileSnippet(c.snippet);
      } catch (e) {
        res.writeHead(400).end(errorText(e));
        return;
      }
    }
    paths.set(c.path, { ...entry, secret: c.secret ?? entry.secret, mode: c.mode ?? entry.mode ?? "ok", verify });
    res.writeHead(204).end();
    return;
  }
  if (url.pathname === "/_received") {
    const entry = paths.get(url.searchParams.get("path"));
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(entry ? entry.received : []));
    return;
  }
  const entry = paths.get(url.pathname);
  if (!entry) {
    res.writeHead(404).end();
    return;
  }
  const record = {
    id: req.headers["webhook-id"],
    timestamp: req.headers["webhook-timestamp"],
    signature: req.headers["webhook-signature"],
    contentType: req.headers["content-type"],
    body,
    mode: entry.mode,
    verified: false,
    error: null,
  };
  try {
    // throws unless the signature matches and the timestamp is within 5 minutes of now
    if (entry.verify) record.event = entry.verify(entry.secret, body, req);
    else new Webhook(entry.secret).verify(body, req.headers);
    record.verified = true;
  } catch (e) {
    record.error = errorText(e);
  }
  if (entry.verify) {
    record.tamperedError = null;
    try {
      entry.verify(entry.secret, body.replace(/\}\s*$/, ',"tampered":true}'), req);
    } catch (e) {
      record.tamperedError = errorText(e);
    }
  }
  entry.received.push(record);
  if (entry.mode === "hang") {
    held.push(res);
    return;
  }
  res.writeHead(entry.mode === "fail" ? 500 : 204).end();
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
process.on("SIGTERM", () => process.exit(0));
