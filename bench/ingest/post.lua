-- post.lua — wrk script: POST /v1/feedback with realistic, distinct events.
--
-- Every request carries a new id (run id + thread id + per-thread counter), so every 201 is
-- a new row; the mix of kinds, tags, comments and users follows what a chat frontend sends.
-- Each thread counts the requests it sent and the answers by status; done() sums them over
-- the threads and prints machine-readable lines that run.sh checks against the table.
--
-- Environment: BENCH_KEY (ingest key), BENCH_RUN (run id, default: random), BENCH_BATCH (events
-- per request: 1 (default) posts single events to the URL given, /v1/feedback; N > 1 posts
-- {"events": [...N...]} and the URL must be /v1/feedback/batch — how a chat backend sends).

local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", counter)
  thread:set("run", os.getenv("BENCH_RUN") or tostring(os.time()))
  table.insert(threads, thread)
  counter = counter + 1
end

-- globals (thread:get reads globals): key, seq, sent, created, dup, other (counted in events)
local tags = {"inaccurate", "helpful", "too_long", "off_topic", "unsafe", "formatting", "outdated", "great"}
local models = {"chat-v7", "chat-v8", "chat-mini"}
local comments = {
  "The capital is wrong, it should be Paris.",
  "Great answer, exactly what I needed!",
  "Too verbose; the first paragraph repeats the question.",
  "Code does not compile: missing semicolon on line 3.",
}
local prefix, batch

function init(args)
  key = os.getenv("BENCH_KEY") or error("BENCH_KEY is not set")
  batch = tonumber(os.getenv("BENCH_BATCH") or "1")
  math.randomseed(os.time() * 1000 + tid)
  seq, sent, created, dup, other = 0, 0, 0, 0, 0
  -- the request line and headers once (wrk.format walks the header table on every call);
  -- without a body wrk.format ends in the blank line: drop it, Content-Length follows
  local head = wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, nil)
  prefix = head:sub(1, -3) .. "Content-Length: "
end

local function pick(t) return t[math.random(#t)] end

local function tag_list()
  local n = math.random(0, 2)
  if n == 0 then return "" end
  local out = {}
  for i = 1, n do out[i] = '"' .. pick(tags) .. '"' end
  return ',"tags":[' .. table.concat(out, ",") .. ']'
end

local function event()
  seq = seq + 1
  sent = sent + 1
  local id = string.format("b%s-%d-%d-%d", run, tid, seq, math.random(0, 999999))
  local conv = math.random(1, 5000)
  local mid = string.format("m-%d-%d", conv, math.random(1, 4))
  local user = string.format("u%d", math.random(1, 20000))
  local r = math.random(100)
  local body
  if r <= 45 then
    body = string.format('{"id":"%s","kind":"rating","message_id":"%s","user":"%s","value":%d%s}',
                         id, mid, user, (math.random(2) == 1) and 1 or -1, tag_list())
  elseif r <= 60 then
    body = string.format('{"id":"%s","kind":"rating","message_id":"%s","user":"%s","value":%d,"scale":5%s,'
                         .. '"metadata":{"model":"%s","page":"chat"}}',
                         id, mid, user, math.random(1, 5), tag_list(), pick(models))
  elseif r <= 80 then
    body = string.format('{"id":"%s","kind":"comment","message_id":"%s","user":"%s","comment":"%s"%s}',
                         id, mid, user, pick(comments), tag_list())
  elseif r <= 90 then
    body = string.format('{"id":"%s","kind":"edit","message_id":"%s","user":"%s",'
                         .. '"edited_content":"Paris is the capital of France (edit %d)."}',
                         id, mid, user, math.random(1000))
  else
    local other_mid = string.format("m-%d-%d", conv, math.random(5, 8))
    body = string.format('{"id":"%s","kind":"comparison","message_id":"%s","other_message_id":"%s",'
                         .. '"user":"%s","outcome":"preferred","strength":%d}',
                         id, mid, other_mid, user, math.random(1, 3))
  end
  return body
end

function request()
  local body
  if batch == 1 then
    body = event()
  else
    local evs = {}
    for i = 1, batch do evs[i] = event() end
    body = '{"events":[' .. table.concat(evs, ",") .. ']}'
  end
  return prefix .. #body .. "\r\n\r\n" .. body
end

local function count(status, n)
  if status == "stored" then
    created = created + n
  elseif status == "duplicate" then
    dup = dup + n
  else
    other = other + n
  end
end

function response(status, hdrs, body)
  local before = other
  if batch == 1 then
    count(status == 201 and "stored" or status == 200 and "duplicate" or "other", 1)
  elseif status == 200 then
    -- per-item statuses of the batch answer
    local stored = select(2, body:gsub('"status":"stored"', ""))
    local duplicate = select(2, body:gsub('"status":"duplicate"', ""))
    count("stored", stored)
    count("duplicate", duplicate)
    count("other", batch - stored - duplicate)
  else
    count("other", batch)
  end
  if other > before and before < 3 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
end

function done(summary, latency, requests)
  local s, c, d, o = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent")
    c = c + t:get("created")
    d = d + t:get("dup")
    o = o + t:get("other")
  end
  io.write(string.format("BENCH sent=%d created=%d duplicate=%d other=%d\n", s, c, d, o))
  io.write(string.format("BENCH requests=%d duration_us=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d errors_status=%d\n",
                         summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
                         summary.errors.write, summary.errors.timeout, summary.errors.status))
  io.write(string.format("BENCH p50_us=%d p90_us=%d p99_us=%d max_us=%d\n", latency:percentile(50),
                         latency:percentile(90), latency:percentile(99), latency.max))
end
