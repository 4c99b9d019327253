// webhook_receiver.mjs — a webhook receiver for tests/integration/test_webhooks.py that checks
// every delivery with the `standardwebhooks` npm package (the reference implementation of the
// Standard Webhooks specification), independently of feedbackd's own signing code.
//
// node webhook_receiver.mjs  -> prints {"port": N} on stdout, then serves on 127.0.0.1:N:
//   POST /_config {"path": "/a", "secret": "whsec_...", "mode": "ok"|"fail"|"hang"}
//        deliveries to /a are verified with that secret and answered 204 (ok), 500 (fail) or
//        never (hang: the connection is held open until the receiver exits)
//   GET  /_received?path=/a  -> [{"verified", "error", "id", "timestamp", "signature", "body",
//        "mode"}] in arrival order, every attempt, answered or not
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const paths = new Map(); // path -> {secret, mode, received: []}
const held = [];

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
    paths.set(c.path, { ...entry, secret: c.secret ?? entry.secret, mode: c.mode ?? entry.mode ?? "ok" });
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
    new Webhook(entry.secret).verify(body, req.headers);
    record.verified = true;
  } catch (e) {
    record.error = String(e && e.message ? e.message : e);
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
