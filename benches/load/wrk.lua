-- The wrk client of benches/load/run.sh: behaves like a browser towards one session cookie, and
-- prints one machine-readable result line.
--
--   wrk ... -s wrk.lua URL -- '<Cookie header or empty>' '<session cookie name or empty>' [PACE_MS]
--
-- With PACE_MS > 0 each connection waits that long after an answer before its next request, so
-- every system sees about the same moderate offered load (connections / (PACE_MS + latency))
-- instead of as much as it can take: latency then measures each system's work per request, not
-- its queue at saturation. Without it wrk runs closed-loop at full speed (wrk only calls
-- `delay` when the script defines it, so it is defined only when pacing).
--
-- Why a script rather than `-H "Cookie: ..."`:
-- * A browser applies every Set-Cookie it receives. A gateway that re-issues the session (after
--   a token exchange, or a rotated refresh token) must then see the new cookie on the following
--   requests, or every request afterwards carries a stale cookie and measures another path.
--   Each wrk thread keeps its own copy of the cookie (a browser has one); the copies converge
--   on the first response of each thread that carries the new session, which is harmless.
-- * wrk counts only statuses >= 400 as errors; a 302 to a login page would pass as a success.
--   Here every status other than 200 is an error.
-- The same script drives every system, so the per-request cost of the script is the same for all.

local cookie = ""
local cookie_name = nil
local req = nil
non200 = 0

local function build()
  if cookie ~= "" then
    wrk.headers["Cookie"] = cookie
  else
    wrk.headers["Cookie"] = nil
  end
  req = wrk.format()
end

function init(args)
  cookie = args[1] or ""
  if args[2] and args[2] ~= "" then
    cookie_name = args[2]
  end
  local pace = tonumber(args[3] or "")
  if pace and pace > 0 then
    delay = function()
      return pace
    end
  end
  build()
end

function request()
  return req
end

-- Replaces (or drops, when cleared) the pair `name=...` in the Cookie header.
local function apply_set_cookie(line)
  local name, value = line:match("^%s*([^=;%s]+)=([^;]*)")
  if name == nil or cookie_name == nil then
    return
  end
  -- The session cookie and its chunks (`tokengate.1`, `mod_auth_openidc_session_0`, ...).
  if name:find(cookie_name, 1, true) ~= 1 then
    return
  end
  local pairs_out = {}
  local replaced = false
  for pair in cookie:gmatch("[^;]+") do
    local trimmed = pair:match("^%s*(.-)%s*$")
    local n = trimmed:match("^([^=]+)=")
    if n == name then
      replaced = true
      if value ~= "" then
        pairs_out[#pairs_out + 1] = name .. "=" .. value
      end
    elseif trimmed ~= "" then
      pairs_out[#pairs_out + 1] = trimmed
    end
  end
  if not replaced and value ~= "" then
    pairs_out[#pairs_out + 1] = name .. "=" .. value
  end
  cookie = table.concat(pairs_out, "; ")
  build()
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
  local line = headers["Set-Cookie"] or headers["set-cookie"]
  if line ~= nil then
    apply_set_cookie(line)
  end
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non200") or 0)
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'WRKJSON {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"socket_errors":%d,"non200":%d,"errors":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, bad,
    e.connect + e.read + e.write + e.timeout + bad))
end
