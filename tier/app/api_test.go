package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func (a *testApp) api(t *testing.T, method, path, body string, header ...string) response {
	t.Helper()
	var req *http.Request
	var err error
	if body == "" {
		req, err = http.NewRequest(method, a.URL+path, nil)
	} else {
		req, err = http.NewRequest(method, a.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, http.DefaultClient, req)
}

type apiEntry struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Email       string    `json:"email"`
	Day         string    `json:"day"`
	Content     string    `json:"content"`
	CreatedAt   time.Time `json:"created_at"`
	DeleteToken string    `json:"delete_token"`
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON", ct)
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
	return v
}

func (a *testApp) apiCreate(t *testing.T, name string) apiEntry {
	t.Helper()
	r := a.api(t, "POST", "/visitor/api/entries", fmt.Sprintf(`{"name":%q,"email":"api@example.com","content":"API 글"}`, name))
	wantStatus(t, r, http.StatusCreated)
	return decode[apiEntry](t, r)
}

func TestAPICreateAnswers201WithTheEntryAndADeleteToken(t *testing.T) {
	a := newTestApp(t)
	r := a.api(t, "POST", "/visitor/api/entries", `{"name":"이순신","email":"lee@example.kr","day":"월요일","content":"안녕"}`)
	wantStatus(t, r, http.StatusCreated)
	e := decode[apiEntry](t, r)
	if e.ID <= 0 || e.Name != "이순신" || e.Day != "월요일" || e.Content != "안녕" || e.CreatedAt.IsZero() {
		t.Errorf("created %+v", e)
	}
	if strings.Contains(r.body, "lee@example.kr") {
		t.Errorf("the 201 shows the email, which is the admin's alone: %s", r.body)
	}
	if len(e.DeleteToken) < 40 {
		t.Errorf("delete_token %q is too short to be a secret", e.DeleteToken)
	}
	if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/visitor/api/entries/%d", e.ID) {
		t.Errorf("Location = %q", loc)
	}
	// Only the creator ever sees the token.
	for _, path := range []string{"/visitor/api/entries", fmt.Sprintf("/visitor/api/entries/%d", e.ID)} {
		if r := a.api(t, "GET", path, ""); strings.Contains(r.body, e.DeleteToken) || strings.Contains(r.body, "delete") {
			t.Errorf("GET %s reveals the delete token or its hash: %s", path, r.body)
		}
	}
}

func TestAPIGetReturnsTheEntryFields(t *testing.T) {
	a := newTestApp(t)
	e := a.apiCreate(t, "조회")
	path := fmt.Sprintf("/visitor/api/entries/%d", e.ID)
	for _, tt := range []struct {
		who    string
		header []string
		fields []string
	}{
		{"the public", nil, []string{"id", "name", "day", "content", "created_at"}},
		{"the admin", []string{"Authorization", "Bearer " + adminToken}, []string{"id", "name", "email", "day", "content", "created_at"}},
	} {
		r := a.api(t, "GET", path, "", tt.header...)
		wantStatus(t, r, http.StatusOK)
		var fields map[string]any
		json.Unmarshal([]byte(r.body), &fields)
		for _, k := range tt.fields {
			if _, ok := fields[k]; !ok {
				t.Errorf("%s: entry lacks %q: %s", tt.who, k, r.body)
			}
		}
		if len(fields) != len(tt.fields) {
			t.Errorf("%s: entry has fields beyond the %d: %s", tt.who, len(tt.fields), r.body)
		}
	}
	wantStatus(t, a.api(t, "GET", "/visitor/api/entries/999", ""), http.StatusNotFound)
	wantStatus(t, a.api(t, "GET", "/visitor/api/entries/abc", ""), http.StatusBadRequest)
}

func TestAPIListPagesWithBeforeAndLimit(t *testing.T) {
	a := newTestApp(t)
	for i := 0; i < 5; i++ {
		a.apiCreate(t, fmt.Sprintf("n%d", i))
	}
	type list struct {
		Entries    []apiEntry `json:"entries"`
		NextBefore *int64     `json:"next_before"`
	}
	first := decode[list](t, a.api(t, "GET", "/visitor/api/entries?limit=3", ""))
	if len(first.Entries) != 3 || first.Entries[0].Name != "n4" || first.NextBefore == nil || *first.NextBefore != first.Entries[2].ID {
		t.Fatalf("first page %+v", first)
	}
	second := decode[list](t, a.api(t, "GET", fmt.Sprintf("/visitor/api/entries?limit=3&before=%d", *first.NextBefore), ""))
	if len(second.Entries) != 2 || second.Entries[1].Name != "n0" || second.NextBefore != nil {
		t.Fatalf("second page %+v", second)
	}
	if r := a.api(t, "GET", "/visitor/api/entries?before=1", ""); !strings.Contains(r.body, `"entries":[]`) || !strings.Contains(r.body, `"next_before":null`) {
		t.Errorf("an empty page must be an empty list and a null next_before: %s", r.body)
	}
}

func TestAPIListRefusesBadLimitsAndBefore(t *testing.T) {
	a := newTestApp(t)
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "limit=-5", "before=abc", "before=-1"} {
		r := a.api(t, "GET", "/visitor/api/entries?"+q, "")
		wantStatus(t, r, http.StatusBadRequest)
		if e := decode[map[string]any](t, r); e["error"] == "" {
			t.Errorf("%s: no error message", q)
		}
	}
	wantStatus(t, a.api(t, "GET", "/visitor/api/entries?limit=100", ""), http.StatusOK)
}

func TestAPICreateErrors(t *testing.T) {
	a := newTestApp(t)
	tests := []struct {
		name, body, contentType string
		status                  int
		want                    string
	}{
		{"invalid fields", `{"name":"","email":"bad","content":"x"}`, "application/json", 422, `"fields":{`},
		{"malformed JSON", `{"name":`, "application/json", 400, `"error"`},
		{"unknown field", `{"name":"a","email":"a@example.com","content":"c","admin":true}`, "application/json", 400, `unknown field`},
		{"wrong type", `{"name":5,"email":"a@example.com","content":"c"}`, "application/json", 400, `"error"`},
		{"two objects", `{"name":"a","email":"a@example.com","content":"c"}{}`, "application/json", 400, `"error"`},
		{"empty body", ``, "application/json", 400, `"error"`},
		{"form content type", `name=a`, "application/x-www-form-urlencoded", 415, `application/json`},
		{"no content type", `{}`, "", 415, `application/json`},
		{"too large", `{"name":"` + strings.Repeat("a", 70000) + `"}`, "application/json", 413, `"error"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", a.URL+"/visitor/api/entries", strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			r := do(t, http.DefaultClient, req)
			wantStatus(t, r, tt.status)
			decode[map[string]any](t, r)
			wantContains(t, r, tt.want)
		})
	}
	if n := a.count(t); n != 0 {
		t.Errorf("failed creates stored %d entries", n)
	}
}

func TestAPIValidationErrorsNameEachField(t *testing.T) {
	a := newTestApp(t)
	r := a.api(t, "POST", "/visitor/api/entries", `{"name":"`+strings.Repeat("가", 31)+`","email":"x@","content":""}`)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	e := decode[struct {
		Error  string            `json:"error"`
		Fields map[string]string `json:"fields"`
	}](t, r)
	for _, f := range []string{"name", "email", "content"} {
		if e.Fields[f] == "" {
			t.Errorf("no message for %s: %+v", f, e)
		}
	}
	if !strings.Contains(e.Fields["name"], "30") {
		t.Errorf("name message %q does not give the limit", e.Fields["name"])
	}
}

func TestAPIDeleteNeedsTheEntrysTokenOrTheAdminToken(t *testing.T) {
	a := newTestApp(t)
	mine, theirs := a.apiCreate(t, "mine"), a.apiCreate(t, "theirs")
	path := fmt.Sprintf("/visitor/api/entries/%d", mine.ID)

	wantStatus(t, a.api(t, "DELETE", path, ""), http.StatusForbidden)
	wantStatus(t, a.api(t, "DELETE", path, "", "Authorization", "Bearer "+theirs.DeleteToken), http.StatusForbidden)
	wantStatus(t, a.api(t, "DELETE", path, "", "Authorization", "Basic "+mine.DeleteToken), http.StatusForbidden)
	wantStatus(t, a.api(t, "GET", path, ""), http.StatusOK)

	wantStatus(t, a.api(t, "DELETE", path, "", "Authorization", "Bearer "+mine.DeleteToken), http.StatusNoContent)
	wantStatus(t, a.api(t, "GET", path, ""), http.StatusNotFound)
	wantStatus(t, a.api(t, "DELETE", path, "", "Authorization", "Bearer "+mine.DeleteToken), http.StatusNotFound)

	other := fmt.Sprintf("/visitor/api/entries/%d", theirs.ID)
	wantStatus(t, a.api(t, "DELETE", other, "", "Authorization", "Bearer "+adminToken), http.StatusNoContent)
	wantStatus(t, a.api(t, "GET", other, ""), http.StatusNotFound)
}

func TestAPIRefusesCrossOriginBrowserWritesButServesScripts(t *testing.T) {
	a := newTestApp(t)
	body := `{"name":"a","email":"a@example.com","content":"c"}`
	wantStatus(t, a.api(t, "POST", "/visitor/api/entries", body, "Origin", "https://evil.example"), http.StatusForbidden)
	wantStatus(t, a.api(t, "POST", "/visitor/api/entries", body, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	e := a.apiCreate(t, "script") // no Origin: curl or a script
	wantStatus(t, a.api(t, "DELETE", fmt.Sprintf("/visitor/api/entries/%d", e.ID), "",
		"Authorization", "Bearer "+e.DeleteToken, "Origin", "https://evil.example"), http.StatusForbidden)
	if n := a.count(t); n != 1 {
		t.Errorf("entries = %d, want only the script's", n)
	}
}

func TestAPIUnknownPathIsJSON404(t *testing.T) {
	a := newTestApp(t)
	r := a.api(t, "GET", "/visitor/api/nothing", "")
	wantStatus(t, r, http.StatusNotFound)
	decode[map[string]any](t, r)
}

func TestAPIRefusesInvalidUTF8AndLoneSurrogates(t *testing.T) {
	a := newTestApp(t)
	for name, body := range map[string]string{
		"invalid byte":        "{\"name\":\"a\xffb\",\"email\":\"a@example.com\",\"content\":\"c\"}",
		"lone high surrogate": `{"name":"a","email":"a@example.com","content":"x\ud800y"}`,
		"lone low surrogate":  `{"name":"a","email":"a@example.com","content":"\udc00"}`,
	} {
		r := a.api(t, "POST", "/visitor/api/entries", body)
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "UTF-8") {
			t.Errorf("%s: status %d %s, want 400 naming UTF-8", name, r.StatusCode, r.body)
		}
	}
	if n := a.count(t); n != 0 {
		t.Fatalf("stored %d entries from invalid text", n)
	}
	// A surrogate pair, and U+FFFD as written, are valid text.
	r := a.api(t, "POST", "/visitor/api/entries", `{"name":"\ud83d\ude00","email":"a@example.com","content":"� and \ufffd"}`)
	wantStatus(t, r, http.StatusCreated)
	if e := decode[apiEntry](t, r); e.Name != "😀" || e.Content != "� and �" {
		t.Errorf("stored %q / %q", e.Name, e.Content)
	}
}

func TestAPIWrongMethodIsJSON405WithAllow(t *testing.T) {
	a := newTestApp(t)
	r := a.api(t, "PUT", "/visitor/api/entries", `{}`)
	wantStatus(t, r, http.StatusMethodNotAllowed)
	decode[map[string]any](t, r)
	if allow := r.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow = %q", allow)
	}
}

func TestAPIBearerSchemeIsCaseInsensitive(t *testing.T) {
	a := newTestApp(t)
	e := a.apiCreate(t, "case")
	wantStatus(t, a.api(t, "DELETE", fmt.Sprintf("/visitor/api/entries/%d", e.ID), "", "Authorization", "bearer "+e.DeleteToken), http.StatusNoContent)
}

func TestAPIWorksTheSameOnMariaDB(t *testing.T) {
	a := newTestAppOn(t, "mysql")
	e := a.apiCreate(t, "마리아")
	wantStatus(t, a.api(t, "GET", fmt.Sprintf("/visitor/api/entries/%d", e.ID), ""), http.StatusOK)
	wantContains(t, a.api(t, "GET", "/visitor/api/entries", ""), "마리아")
	wantStatus(t, a.api(t, "DELETE", fmt.Sprintf("/visitor/api/entries/%d", e.ID), "", "Authorization", "Bearer wrong"), http.StatusForbidden)
	wantStatus(t, a.api(t, "DELETE", fmt.Sprintf("/visitor/api/entries/%d", e.ID), "", "Authorization", "Bearer "+e.DeleteToken), http.StatusNoContent)
	wantStatus(t, a.api(t, "GET", fmt.Sprintf("/visitor/api/entries/%d", e.ID), ""), http.StatusNotFound)
}
