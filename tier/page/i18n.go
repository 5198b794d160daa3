// Package page holds what every page of both tiers shares: the layout around
// it, the interface language and its text.
package page

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/guestbook/guestbook/tier/forwarded"
)

// Languages of the interface. Korean is for the readers this was made for;
// English for everyone else.
const (
	Ko = "ko"
	En = "en"
)

const langCookie = "gb_lang"

// Lang picks the interface language for a request: ?lang= (remembered in a
// cookie), then that cookie, then Accept-Language (Korean when the browser
// prefers it to English), then English.
//
// It runs on every page, so it parses only what is there: no query, no
// cookie of ours, no allocation.
func Lang(r *http.Request) string {
	if strings.Contains(r.URL.RawQuery, "lang=") {
		if l := r.URL.Query().Get("lang"); l == Ko || l == En {
			return l
		}
	}
	if strings.Contains(r.Header.Get("Cookie"), langCookie+"=") {
		if c, err := r.Cookie(langCookie); err == nil && (c.Value == Ko || c.Value == En) {
			return c.Value
		}
	}
	return FromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// RememberLang keeps a language chosen with ?lang= for the next pages.
func RememberLang(w http.ResponseWriter, r *http.Request) {
	if !strings.Contains(r.URL.RawQuery, "lang=") {
		return // the common case, without parsing a query into a map
	}
	if l := r.URL.Query().Get("lang"); l == Ko || l == En {
		http.SetCookie(w, &http.Cookie{
			Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			SameSite: http.SameSiteLaxMode, HttpOnly: true, Secure: forwarded.HTTPS(r),
		})
	}
}

// FromAcceptLanguage returns "ko" when Korean is the browser's most preferred
// language of the two we have, and "en" otherwise.
// A tie keeps the browser's order.
func FromAcceptLanguage(header string) string {
	var (
		bestKo, bestEn = 0.0, 0.0 // highest q of each; 0: not acceptable
		posKo, posEn   int        // where each best was named
	)
	for pos, rest := 0, header; rest != ""; pos++ {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			var err error
			if q, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
				q = 0
			}
		}
		switch {
		case strings.EqualFold(primary, Ko) && q > bestKo:
			bestKo, posKo = q, pos
		case strings.EqualFold(primary, En) && q > bestEn:
			bestEn, posEn = q, pos
		}
	}
	if bestKo > bestEn || (bestKo > 0 && bestKo == bestEn && posKo < posEn) {
		return Ko
	}
	return En
}

// T returns the interface text for key in lang; a missing key shows itself,
// and a test checks that none is missing.
func T(lang, key string) string {
	if s, ok := messages[lang][key]; ok {
		return s
	}
	return key
}

var messages = map[string]map[string]string{
	Ko: {
		"site":                          "방명록",
		"nav.home":                      "홈",
		"nav.guestbook":                 "방명록",
		"nav.list":                      "목록",
		"nav.write":                     "글쓰기",
		"lang.switch":                   "English",
		"home.title":                    "방명록 애플리케이션 티어",
		"home.lead":                     "이 페이지는 애플리케이션 티어가 직접 만들었습니다. 웹 티어가 /visitor/ 요청을 이곳으로 전달하고, 애플리케이션 티어는 데이터베이스에 방명록을 읽고 씁니다.",
		"home.served_by":                "이 요청을 처리한 인스턴스",
		"instance.id":                   "인스턴스 ID",
		"instance.zone":                 "가용 영역",
		"instance.subnet":               "서브넷",
		"instance.version":              "버전",
		"home.cta":                      "방명록 보기",
		"list.title":                    "방명록 목록",
		"list.empty":                    "아직 글이 없습니다. 첫 글을 남겨 주세요.",
		"list.older":                    "이전 글",
		"list.newest":                   "최신 글로",
		"entry.name":                    "이름",
		"entry.email":                   "이메일",
		"entry.day":                     "날짜",
		"entry.content":                 "내용",
		"entry.created":                 "작성 시각",
		"entry.delete":                  "삭제",
		"entry.detail":                  "자세히",
		"detail.title":                  "방명록 글",
		"detail.back":                   "목록으로",
		"create.title":                  "방명록 쓰기",
		"create.submit":                 "등록",
		"create.hint.day":               "비워 두면 오늘 날짜가 들어갑니다.",
		"create.invalid":                "입력한 내용을 확인해 주세요.",
		"create.trap":                   "이 칸은 비워 두세요. 스팸 프로그램을 걸러 내는 칸입니다.",
		"create.trapped":                "등록되지 않았습니다. 비워 두어야 하는 칸(스팸 프로그램을 걸러 내는 칸으로, 화면에는 보이지 않습니다)이 채워져 있었습니다. 그 칸을 비웠으니 내용을 확인하고 다시 등록을 누르세요.",
		"create.resent":                 "이 양식은 이미 다른 내용으로 등록되었습니다. 그때의 글은 목록에 있습니다. 이 내용을 새 글로 올리려면 다시 등록을 누르세요.",
		"create.limited":                "짧은 시간에 글을 너무 많이 썼습니다. 쓴 내용은 그대로 있으니 %d초 뒤에 다시 등록을 누르세요.",
		"create.refused.too_soon":       "양식을 연 지 너무 빨리 보냈습니다. 사람이 쓴 글인지 확인하려는 것입니다. 잠시 후 다시 등록을 눌러 주세요.",
		"create.refused.token_expired":  "이 양식은 너무 오래되었습니다. 새 양식으로 바꾸었으니 다시 등록을 눌러 주세요.",
		"create.refused.token_missing":  "이 양식을 확인할 수 없습니다. 새 양식으로 바꾸었으니 잠시 후 다시 등록을 눌러 주세요.",
		"create.refused.token_forged":   "이 양식을 확인할 수 없습니다. 새 양식으로 바꾸었으니 잠시 후 다시 등록을 눌러 주세요.",
		"delete.title":                  "글 삭제",
		"delete.confirm":                "이 글을 삭제할까요? 되돌릴 수 없습니다.",
		"delete.submit":                 "삭제",
		"delete.cancel":                 "취소",
		"delete.not_owner":              "이 글은 작성한 브라우저나 관리자만 삭제할 수 있습니다.",
		"delete.admin_token":            "관리자 토큰",
		"web.title":                     "3티어 방명록",
		"web.lead":                      "정적 웹 티어, 애플리케이션 티어, 복제되는 데이터베이스가 어떻게 맞물려 동작하는지 보여 주는 예제입니다. 새로 고침하면 로드 밸런서가 요청을 어느 인스턴스로 보냈는지 볼 수 있습니다.",
		"web.diagram":                   "브라우저에서 웹 티어, 애플리케이션 티어, 데이터베이스로 이어지는 세 티어",
		"web.browser":                   "브라우저",
		"web.tier.web":                  "웹 티어",
		"web.tier.app":                  "애플리케이션 티어",
		"web.tier.app.what":             "방명록 · API",
		"web.tier.db":                   "데이터베이스",
		"web.tier.db.writer":            "프라이머리(쓰기)",
		"web.tier.db.reader":            "레플리카(읽기)",
		"web.tier.web.about":            "이 페이지 같은 정적 파일을 직접 제공하고, /visitor/ 요청은 애플리케이션 티어로 전달합니다.",
		"web.tier.app.about":            "방명록의 목록, 상세, 쓰기, 삭제 화면과 JSON API를 만듭니다.",
		"web.tier.db.about":             "쓰기는 프라이머리로, 읽기는 레플리카로 보냅니다.",
		"web.served_by":                 "이 페이지를 제공한 웹 인스턴스",
		"web.unavailable.title":         "애플리케이션 티어에 연결할 수 없습니다",
		"web.unavailable.text":          "응답할 수 있는 애플리케이션 서버가 지금은 없습니다. 잠시 후 다시 시도해 주세요.",
		"web.rate_limited":              "이 주소에서 요청이 너무 잦습니다. 잠시 기다린 뒤 다시 시도해 주세요.",
		"error.title":                   "오류",
		"error.400":                     "요청이 올바르지 않습니다.",
		"error.403":                     "이 작업을 할 권한이 없습니다.",
		"error.404":                     "찾는 페이지나 글이 없습니다.",
		"error.405":                     "이 주소에서는 그 요청 방식을 쓸 수 없습니다.",
		"error.409":                     "같은 요청을 아직 처리하고 있습니다. 잠시 후 목록을 확인해 주세요.",
		"error.413":                     "보낸 내용이 너무 큽니다 (최대 64KiB).",
		"error.415":                     "보낸 내용의 형식을 처리할 수 없습니다.",
		"error.422":                     "입력한 내용을 확인해 주세요.",
		"error.429":                     "짧은 시간에 글을 너무 많이 썼습니다. 잠시 후 다시 시도해 주세요.",
		"error.500":                     "서버에 문제가 생겼습니다. 잠시 후 다시 시도해 주세요.",
		"error.503":                     "데이터베이스를 잠시 사용할 수 없습니다. 잠시 후 다시 시도해 주세요.",
		"error.shed":                    "지금은 요청이 너무 많아 받을 수 없습니다. 잠시 후 다시 시도해 주세요.",
		"error.504":                     "애플리케이션 티어가 제때 답하지 않았습니다. 글을 쓰던 중이었다면 다시 보내기 전에 목록에서 저장되었는지 확인해 주세요.",
		"error.back":                    "방명록 홈으로",
		"problem.required":              "필수 항목입니다.",
		"problem.too_long":              "%d자 이하로 입력해 주세요.",
		"problem.invalid_utf8":          "올바른 UTF-8 문자가 아닙니다.",
		"problem.control_character":     "쓸 수 없는 제어 문자가 들어 있습니다.",
		"problem.invalid_email":         "올바른 이메일 주소를 입력해 주세요.",
		"problem.links":                 "링크는 %[2]d개까지 쓸 수 있습니다 (지금 %[1]d개).",
		"problem.links_none":            "링크는 쓸 수 없습니다 (지금 %[1]d개).",
		"path.title":                    "이 요청의 경로",
		"path.web":                      "웹",
		"path.app":                      "앱",
		"path.db":                       "DB",
		"path.role.primary":             "프라이머리",
		"path.role.replica":             "레플리카",
		"path.lag":                      "지연",
		"path.db.none":                  "데이터베이스 조회 없음",
		"path.static":                   "정적 페이지: 웹 티어만 거쳤습니다",
		"path.topology":                 "실시간 구성도",
		"cache.served":                  "%[1]s의 캐시에서 보냄 · %[2]s초 전 %[3]s에서 만듦",
		"topology.title":                "실시간 구성도",
		"topology.lead":                 "이 요청이 지나간 웹 인스턴스, 웹 티어가 나눠 보내는 애플리케이션 인스턴스, 그리고 응답한 애플리케이션 인스턴스가 보는 데이터베이스 서버의 상태입니다. 굵은 선이 이 요청의 경로이고, 빨간 상자는 중단된 곳입니다.",
		"topology.refresh":              "몇 초마다 새로 고칩니다",
		"topology.stale":                "새로 고치지 못했습니다. 다시 시도하는 중…",
		"topology.diagram":              "웹 티어, 애플리케이션 티어, 데이터베이스 서버와 각각의 상태",
		"topology.ok":                   "정상",
		"topology.down":                 "중단",
		"topology.answered":             "이 페이지를 만든 인스턴스",
		"topology.counts":               "요청 %d · 실패 %d",
		"topology.counts.short":         "요청 %d · 실패 %d",
		"topology.recent":               "최근 %d초",
		"topology.estimate":             "지연 추정 %.1fms · 처리 중 %d",
		"topology.load":                 "동시 처리 한도 %d · 처리 중 %d",
		"topology.cache":                "캐시 %d개 · %d / %d KiB · 최근 1분 적중률 %d%%",
		"topology.app.load":             "%s의 동시 처리 한도 %d · 처리 중 %d",
		"topology.writer":               "쓰기",
		"topology.pool":                 "연결 %d개 사용 중 / %d개 열림",
		"topology.db.latency":           "지연 추정 %.1f ms · 실행 중 쿼리 %d개",
		"topology.no_writer":            "쓰기를 받을 프라이머리를 찾는 중입니다. 읽기는 레플리카가 계속 처리합니다.",
		"topology.web.none":             "이 요청 앞에 신뢰하는 웹 티어가 없습니다. 애플리케이션 티어에 바로 연결했습니다.",
		"topology.web.none.short":       "바로 연결",
		"topology.upstreams.none":       "웹 티어가 알려 준 업스트림 목록이 없습니다.",
		"topology.upstreams.in_process": "애플리케이션 티어가 웹 티어와 같은 프로세스에서 동작합니다 (--role=all).",
	},
	En: {
		"site":                          "Guestbook",
		"nav.home":                      "Home",
		"nav.guestbook":                 "Guestbook",
		"nav.list":                      "List",
		"nav.write":                     "Write",
		"lang.switch":                   "한국어",
		"home.title":                    "The guestbook application tier",
		"home.lead":                     "The application tier made this page itself. The web tier passes every /visitor/ request here, and the application tier reads and writes the guestbook in the database.",
		"home.served_by":                "The instance that served this request",
		"instance.id":                   "Instance ID",
		"instance.zone":                 "Availability zone",
		"instance.subnet":               "Subnet",
		"instance.version":              "Version",
		"home.cta":                      "Read the guestbook",
		"list.title":                    "Guestbook entries",
		"list.empty":                    "No entries yet. Be the first to write one.",
		"list.older":                    "Older entries",
		"list.newest":                   "Newest entries",
		"entry.name":                    "Name",
		"entry.email":                   "Email",
		"entry.day":                     "Day",
		"entry.content":                 "Message",
		"entry.created":                 "Written at",
		"entry.delete":                  "Delete",
		"entry.detail":                  "Details",
		"detail.title":                  "Guestbook entry",
		"detail.back":                   "Back to the list",
		"create.title":                  "Write in the guestbook",
		"create.submit":                 "Post",
		"create.hint.day":               "Leave empty for today's date.",
		"create.invalid":                "Please check what you entered.",
		"create.trap":                   "Leave this field empty: it is a trap for spam programs.",
		"create.trapped":                "Not posted: a field that must stay empty (a trap for spam programs, not shown on screen) was filled in. It has been emptied: check your entry and post it again.",
		"create.resent":                 "This form was already posted, with other text: that entry is in the list. Post again to add this text as a new entry.",
		"create.limited":                "You have written too many entries in a short time. Your text is kept: post again in %d seconds.",
		"create.refused.too_soon":       "This was sent very soon after the form was opened, which is what bots do. Please wait a moment and post again.",
		"create.refused.token_expired":  "This form is too old. It has been renewed: please post again.",
		"create.refused.token_missing":  "This form could not be verified. It has been renewed: please wait a moment and post again.",
		"create.refused.token_forged":   "This form could not be verified. It has been renewed: please wait a moment and post again.",
		"delete.title":                  "Delete entry",
		"delete.confirm":                "Delete this entry? This can't be undone.",
		"delete.submit":                 "Delete",
		"delete.cancel":                 "Cancel",
		"delete.not_owner":              "Only the browser that wrote this entry, or the admin, may delete it.",
		"delete.admin_token":            "Admin token",
		"web.title":                     "The three-tier guestbook",
		"web.lead":                      "An example of how a static web tier, an application tier and a replicated database fit together. Refresh the page to see which instance the load balancer sent you to.",
		"web.diagram":                   "The three tiers: browser to web tier to application tier to database",
		"web.browser":                   "Browser",
		"web.tier.web":                  "Web tier",
		"web.tier.app":                  "Application tier",
		"web.tier.app.what":             "guestbook · API",
		"web.tier.db":                   "Database",
		"web.tier.db.writer":            "primary (writes)",
		"web.tier.db.reader":            "replica (reads)",
		"web.tier.web.about":            "serves static files such as this page itself, and passes /visitor/ requests to the application tier.",
		"web.tier.app.about":            "makes the guestbook's list, detail, write and delete pages and its JSON API.",
		"web.tier.db.about":             "takes writes on the primary and serves reads from the replicas.",
		"web.served_by":                 "The web instance that served this page",
		"web.unavailable.title":         "The application tier can't be reached",
		"web.unavailable.text":          "No application server can answer right now. Please try again shortly.",
		"web.rate_limited":              "Too many requests from your address. Please wait a moment and try again.",
		"error.title":                   "Error",
		"error.400":                     "The request is malformed.",
		"error.403":                     "You may not do that.",
		"error.404":                     "There is no such page or entry.",
		"error.405":                     "This address does not take that method.",
		"error.409":                     "The same request is still being processed. Check the list in a moment.",
		"error.413":                     "What you sent is too large (64 KiB at most).",
		"error.415":                     "The content type of what you sent is not supported.",
		"error.422":                     "Please check what you entered.",
		"error.429":                     "Too many entries in a short time. Please try again shortly.",
		"error.500":                     "Something went wrong on the server. Please try again shortly.",
		"error.503":                     "The database is unavailable for a moment. Please try again shortly.",
		"error.shed":                    "Too many requests right now. Please try again in a moment.",
		"error.504":                     "The application tier did not answer in time. If you were writing an entry, check the list before sending it again.",
		"error.back":                    "Guestbook home",
		"problem.required":              "This field is required.",
		"problem.too_long":              "Use at most %d characters.",
		"problem.invalid_utf8":          "This is not valid UTF-8 text.",
		"problem.control_character":     "This contains a control character that is not allowed.",
		"problem.invalid_email":         "Enter a valid email address.",
		"problem.links":                 "At most %[2]d links are allowed (this has %[1]d).",
		"problem.links_none":            "Links are not allowed (this has %[1]d).",
		"path.title":                    "The path of this request",
		"path.web":                      "web",
		"path.app":                      "app",
		"path.db":                       "db",
		"path.role.primary":             "primary",
		"path.role.replica":             "replica",
		"path.lag":                      "lag",
		"path.db.none":                  "no database query",
		"path.static":                   "a static page: the web tier alone served it",
		"path.topology":                 "Live topology",
		"cache.served":                  "served by %[1]s from its cache · made %[2]ss ago by %[3]s",
		"topology.title":                "Live topology",
		"topology.lead":                 "The web instance this request passed, the application instances the web tier balances across, and the database servers as the application instance that answered sees them. The bold lines are this request's path; red boxes are down.",
		"topology.refresh":              "Refreshes every few seconds",
		"topology.stale":                "Could not refresh; trying again…",
		"topology.diagram":              "The web tier, the application tier and the database servers, with the health of each",
		"topology.ok":                   "healthy",
		"topology.down":                 "down",
		"topology.answered":             "made this page",
		"topology.counts":               "%d requests · %d failed",
		"topology.counts.short":         "%d req · %d fail",
		"topology.recent":               "last %d s",
		"topology.estimate":             "latency estimate %.1f ms · %d in flight",
		"topology.load":                 "concurrency limit %d · %d in flight",
		"topology.cache":                "cache: %d pages · %d of %d KiB · %d%% hits over the last minute",
		"topology.app.load":             "%s: concurrency limit %d · %d in flight",
		"topology.writer":               "writer",
		"topology.pool":                 "%d of %d connections in use",
		"topology.db.latency":           "latency estimate %.1f ms · %d queries in flight",
		"topology.no_writer":            "Looking for a primary to take writes. The replicas keep serving reads.",
		"topology.web.none":             "No trusted web tier is in front of this request: it reached the application tier directly.",
		"topology.web.none.short":       "direct",
		"topology.upstreams.none":       "The web tier gave no list of its upstreams.",
		"topology.upstreams.in_process": "The application tier runs in the web tier's own process (--role=all).",
	},
}
