-- bench/lua/form.lua: wrk script for bench/suite's write workloads.
--
--   wrk ... -s bench/lua/form.lua URL -- WRITE_PERCENT READ_PATH FORM_TOKEN
--
-- WRITE_PERCENT of the requests (100: all) POST the guestbook's create form
-- to /visitor/visitor_create/, as a browser's form would but without Origin
-- or Sec-Fetch-Site (a client that is not a browser passes the cross-origin
-- protection, as curl does); the others GET READ_PATH. Writes are spread
-- evenly (10: every tenth request), not drawn at random, so two runs do the
-- same work. FORM_TOKEN is a form_token the guestbook served (bench/suite
-- fetches one with curl), posted with every write. Each thread counts the
-- statuses it got, and done() prints them as "status CODE COUNT" lines, so
-- bench/suite can set the 303s (each one an acknowledged insert) against the
-- rows the database gained.

-- Entries as visitors write them: Korean, English and both, short and long.
local entries = {
  { "홍길동", "hong@example.com",
    "안녕하세요! 홈페이지 잘 보고 갑니다. 세 티어 구조를 공부하다가 들렀는데 설명이 정말 친절하네요." },
  { "Alice Walker", "alice@example.org",
    "Hello from Busan! Found this while learning about three-tier architectures. " ..
    "The page loads instantly even on a slow train connection, which is more than I can say for most sites." },
  { "김민지", "minji.kim@example.kr",
    "방명록 남기고 갑니다~ 저도 예전에 비슷한 프로젝트를 만들어 본 적이 있는데, 데이터베이스 복제 설정에서 " ..
    "한참 고생했던 기억이 나네요. 정리해 주신 글 덕분에 많이 배웠습니다. 다음 글도 기대하겠습니다!" },
  { "Kenji", "kenji@example.jp", "Nice to see a guestbook in 2024! Keep it up. 좋은 하루 보내세요 :)" },
  { "이서준", "seojun@example.com",
    "회사에서 발표 자료 만들 때 참고하려고 합니다. 그림이 특히 이해하기 쉬워요. " ..
    "I had a similar setup years ago with Apache and PHP, and replication lag was always the thing that bit us." },
}

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- copy_headers: a copy of wrk's own (its -H flags), which wrk.format leaves
-- out when given a table of its own.
local function copy_headers()
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  return h
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  write_percent = tonumber(args[1] or "100")
  local read_path = args[2] or "/visitor/visitor_list/"
  local token = args[3] or ""
  counts = {}
  n = 0
  -- Requests are formatted once here: wrk shares the machine's two cores
  -- with the servers, and formatting each request anew would take from them.
  writes = {}
  for i, e in ipairs(entries) do
    local body = "name=" .. urlencode(e[1]) .. "&email=" .. urlencode(e[2]) ..
      "&day=&content=" .. urlencode(e[3]) .. "&form_token=" .. urlencode(token)
    local h = copy_headers()
    h["Content-Type"] = "application/x-www-form-urlencoded"
    writes[i] = wrk.format("POST", "/visitor/visitor_create/", h, body)
  end
  read = wrk.format("GET", read_path, copy_headers())
end

function request()
  n = n + 1
  -- The nth request is a write when it carries the write count past a whole
  -- number: exactly write_percent of them, evenly spread.
  if math.floor(n * write_percent / 100) > math.floor((n - 1) * write_percent / 100) then
    return writes[1 + n % #writes]
  end
  return read
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, count in pairs(t:get("counts")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d %d\n", status, count))
  end
end
