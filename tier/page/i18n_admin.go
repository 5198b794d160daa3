package page

// adminMessages are the admin's pages (/visitor/admin/) and what moderation
// tells an author, kept apart from messages for their number; init merges
// them in.
var adminMessages = map[string]map[string]string{
	Ko: {
		"admin.title":           "관리",
		"admin.lead":            "최신 글부터 이메일, 출처(작성한 클라이언트의 키 해시 앞부분)와 함께 보여 줍니다.",
		"admin.moderation.pre":  "사전 검토가 켜져 있습니다. 새 글은 승인하기 전까지 어떤 공개 페이지와 API에도 나오지 않습니다.",
		"admin.show.all":        "모든 글",
		"admin.show.pending":    "승인 대기 글만",
		"admin.empty":           "글이 없습니다.",
		"admin.pending":         "승인 대기",
		"admin.select":          "선택",
		"admin.email":           "이메일",
		"admin.source":          "출처",
		"admin.source.none":     "없음",
		"admin.source.delete":   "이 출처의 글 모두 삭제…",
		"admin.created":         "작성 시각",
		"admin.delete":          "선택한 글 삭제",
		"admin.approve":         "선택한 글 승인",
		"admin.done.delete":     "글 %d개를 삭제했습니다.",
		"admin.done.approve":    "글 %d개를 승인했습니다.",
		"admin.signout":         "로그아웃",
		"admin.cancel":          "취소",
		"admin.signin.title":    "관리자 로그인",
		"admin.signin.token":    "관리자 토큰",
		"admin.signin.submit":   "로그인",
		"admin.signin.wrong":    "관리자 토큰이 맞지 않습니다.",
		"admin.signin.limited":  "로그인 시도가 너무 많습니다. %d초 뒤에 다시 시도하세요.",
		"admin.signin.required": "로그인하지 않았거나 세션이 만료되었습니다. 다시 로그인하세요.",
		"admin.source.title":    "한 출처의 글 모두 삭제",
		"admin.source.count":    "출처 %[1]s에서 온 글 %[2]d개를 모두 삭제할까요? 되돌릴 수 없습니다.",
		"admin.source.shown":    "이 출처의 최근 글",
		"admin.source.submit":   "모두 삭제",
		"list.waiting":          "글이 등록되었습니다. 관리자가 승인하면 목록에 나타납니다.",
	},
	En: {
		"admin.title":           "Administration",
		"admin.lead":            "The newest entries first, with their email and source (the start of the keyed hash of the client that wrote them).",
		"admin.moderation.pre":  "Pre-moderation is on: a new entry is on no public page or API until you approve it.",
		"admin.show.all":        "All entries",
		"admin.show.pending":    "Waiting only",
		"admin.empty":           "No entries.",
		"admin.pending":         "Waiting",
		"admin.select":          "Select",
		"admin.email":           "Email",
		"admin.source":          "Source",
		"admin.source.none":     "none",
		"admin.source.delete":   "Delete all from this source…",
		"admin.created":         "Written",
		"admin.delete":          "Delete selected",
		"admin.approve":         "Approve selected",
		"admin.done.delete":     "Entries deleted: %d.",
		"admin.done.approve":    "Entries approved: %d.",
		"admin.signout":         "Sign out",
		"admin.cancel":          "Cancel",
		"admin.signin.title":    "Admin sign-in",
		"admin.signin.token":    "Admin token",
		"admin.signin.submit":   "Sign in",
		"admin.signin.wrong":    "That is not the admin token.",
		"admin.signin.limited":  "Too many sign-in attempts: try again in %d seconds.",
		"admin.signin.required": "You are not signed in, or your session has expired: sign in again.",
		"admin.source.title":    "Delete everything from one source",
		"admin.source.count":    "Delete all %[2]d entries from source %[1]s? This can't be undone.",
		"admin.source.shown":    "Its newest entries",
		"admin.source.submit":   "Delete them all",
		"list.waiting":          "Your entry was posted: it waits for the admin's approval, and appears in the list once approved.",
	},
}

func init() {
	for lang, texts := range adminMessages {
		for key, text := range texts {
			messages[lang][key] = text
		}
	}
}
