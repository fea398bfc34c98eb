-- Sets the method from WRK_METHOD and prints one machine-readable summary line.
-- Latencies are in microseconds; "status" counts non-2xx/3xx responses.
-- With WRK_BODY_FILE set, every request sends that file's bytes as its body
-- (wrk adds the Content-Length) with the Content-Type from WRK_CONTENT_TYPE.
-- WRK_HEADERS holds more request headers, one "Name: value" a line.
wrk.method = os.getenv("WRK_METHOD") or "GET"

local header_lines = os.getenv("WRK_HEADERS")
if header_lines and header_lines ~= "" then
   for line in string.gmatch(header_lines, "[^\n]+") do
      local name, value = string.match(line, "^([^:]+):%s*(.-)%s*$")
      assert(name, "WRK_HEADERS: not a 'Name: value' line: " .. line)
      wrk.headers[name] = value
   end
end

local body_file = os.getenv("WRK_BODY_FILE")
if body_file and body_file ~= "" then
   local file = assert(io.open(body_file, "rb"))
   wrk.body = file:read("*a")
   file:close()
   local content_type = os.getenv("WRK_CONTENT_TYPE")
   if content_type and content_type ~= "" then
      wrk.headers["Content-Type"] = content_type
   end
end

done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "WRK_JSON {\"requests\": %d, \"duration_us\": %d, \"bytes\": %d, " ..
      "\"connect\": %d, \"read\": %d, \"write\": %d, \"status\": %d, \"timeout\": %d, " ..
      "\"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, \"max_us\": %d, \"mean_us\": %.1f}\n",
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
