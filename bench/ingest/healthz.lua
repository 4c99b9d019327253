-- healthz.lua — wrk script for GET /healthz (the HTTP ceiling): same summary lines as post.lua.
function done(summary, latency, requests)
  io.write(string.format("BENCH requests=%d duration_us=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d errors_status=%d\n",
                         summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
                         summary.errors.write, summary.errors.timeout, summary.errors.status))
  io.write(string.format("BENCH p50_us=%d p90_us=%d p99_us=%d max_us=%d\n", latency:percentile(50),
                         latency:percentile(90), latency:percentile(99), latency.max))
end
