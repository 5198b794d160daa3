package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var today = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

// valid is a draft that passes every rule; each case changes one field.
func valid() Draft {
	return Draft{Name: "홍길동", Email: "hong@example.com", Day: "2026-11-25", Content: "안녕하세요"}
}

func TestDraftRules(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Draft)
		field   string  // the field that must be reported; "" for a valid draft
		problem Problem // what must be reported for it
	}{
		{"valid draft", func(*Draft) {}, "", ""},
		{"name of 30 Korean characters (90 bytes) is allowed", func(d *Draft) { d.Name = strings.Repeat("가", 30) }, "", ""},
		{"name of 31 characters is too long", func(d *Draft) { d.Name = strings.Repeat("a", 31) }, "name", ProblemTooLong},
		{"name of 31 Korean characters is too long", func(d *Draft) { d.Name = strings.Repeat("가", 31) }, "name", ProblemTooLong},
		{"empty name is required", func(d *Draft) { d.Name = "" }, "name", ProblemRequired},
		{"name of only spaces is required", func(d *Draft) { d.Name = "   " }, "name", ProblemRequired},
		{"name with surrounding spaces counts the trimmed text", func(d *Draft) { d.Name = "  " + strings.Repeat("a", 30) + "  " }, "", ""},
		{"name with a tab inside is allowed", func(d *Draft) { d.Name = "a\tb" }, "", ""},
		{"name with NUL is refused", func(d *Draft) { d.Name = "a\x00b" }, "name", ProblemControlChar},
		{"name with escape is refused", func(d *Draft) { d.Name = "a\x1b[31mb" }, "name", ProblemControlChar},
		{"name with C1 control is refused", func(d *Draft) { d.Name = "a\u0085b" }, "name", ProblemControlChar},
		{"name with invalid UTF-8 is refused", func(d *Draft) { d.Name = "a\xffb" }, "name", ProblemInvalidUTF8},
		{"empty email is required", func(d *Draft) { d.Email = "" }, "email", ProblemRequired},
		{"email without @ is invalid", func(d *Draft) { d.Email = "hong.example.com" }, "email", ProblemInvalidEmail},
		{"email without a domain dot is invalid", func(d *Draft) { d.Email = "hong@localhost" }, "email", ProblemInvalidEmail},
		{"email with a display name is invalid", func(d *Draft) { d.Email = "Hong <hong@example.com>" }, "email", ProblemInvalidEmail},
		{"email with a space is invalid", func(d *Draft) { d.Email = "ho ng@example.com" }, "email", ProblemInvalidEmail},
		{"email with two @ is invalid", func(d *Draft) { d.Email = "a@b@example.com" }, "email", ProblemInvalidEmail},
		{"email of 100 characters is allowed", func(d *Draft) { d.Email = strings.Repeat("a", 88) + "@example.com" }, "", ""},
		{"email of 101 characters is too long", func(d *Draft) { d.Email = strings.Repeat("a", 89) + "@example.com" }, "email", ProblemTooLong},
		{"email with surrounding spaces is trimmed", func(d *Draft) { d.Email = " hong@example.com " }, "", ""},
		{"email with invalid UTF-8 is refused", func(d *Draft) { d.Email = "h\xffg@example.com" }, "email", ProblemInvalidUTF8},
		{"day of 30 characters is allowed", func(d *Draft) { d.Day = strings.Repeat("일", 30) }, "", ""},
		{"day of 31 characters is too long", func(d *Draft) { d.Day = strings.Repeat("d", 31) }, "day", ProblemTooLong},
		{"day with a control character is refused", func(d *Draft) { d.Day = "2026\x07" }, "day", ProblemControlChar},
		{"empty content is required", func(d *Draft) { d.Content = "" }, "content", ProblemRequired},
		{"content of only newlines is required", func(d *Draft) { d.Content = "\r\n\n \t" }, "content", ProblemRequired},
		{"content of 5,000 Korean characters is allowed", func(d *Draft) { d.Content = strings.Repeat("한", 5000) }, "", ""},
		{"content of 5,001 characters is too long", func(d *Draft) { d.Content = strings.Repeat("x", 5001) }, "content", ProblemTooLong},
		{"content with newlines and tabs is allowed", func(d *Draft) { d.Content = "첫 줄\n\t둘째 줄\r\n셋째 줄" }, "", ""},
		{"content with NUL is refused", func(d *Draft) { d.Content = "a\x00" + "b" }, "content", ProblemControlChar},
		{"content with DEL is refused", func(d *Draft) { d.Content = "a\x7fb" }, "content", ProblemControlChar},
		{"content with invalid UTF-8 is refused", func(d *Draft) { d.Content = "\xc3\x28" }, "content", ProblemInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid()
			tt.change(&d)
			err := d.Normalize(today).Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %v, want a *ValidationError", err)
			}
			if got := ve.Fields[tt.field]; got != tt.problem {
				t.Errorf("problem for %s = %q, want %q (all: %v)", tt.field, got, tt.problem, ve.Fields)
			}
			if len(ve.Fields) != 1 {
				t.Errorf("fields reported = %v, want only %s", ve.Fields, tt.field)
			}
		})
	}
}

func TestValidateReportsEveryBadField(t *testing.T) {
	err := Draft{Day: strings.Repeat("d", 31)}.Normalize(today).Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate() = %v, want a *ValidationError", err)
	}
	want := map[string]Problem{"name": ProblemRequired, "email": ProblemRequired, "day": ProblemTooLong, "content": ProblemRequired}
	for field, p := range want {
		if ve.Fields[field] != p {
			t.Errorf("%s: got %q, want %q", field, ve.Fields[field], p)
		}
	}
}

func TestNormalizeTrimsAndDefaultsDayToToday(t *testing.T) {
	got := Draft{Name: "  김철수 ", Email: " kim@example.kr\t", Day: "  ", Content: "\n  첫 줄\r\n둘째 줄\r셋째 줄  \n"}.Normalize(today)
	want := Draft{Name: "김철수", Email: "kim@example.kr", Day: "2026-11-25", Content: "첫 줄\n둘째 줄\n셋째 줄"}
	if got != want {
		t.Errorf("Normalize() = %#v\nwant %#v", got, want)
	}
}

func TestHashSecretNeverEqualsTheSecret(t *testing.T) {
	h := HashSecret("s3cret")
	if h == "s3cret" || len(h) != 64 {
		t.Fatalf("HashSecret = %q, want 64 hex digits", h)
	}
	e := Entry{DeleteHash: h}
	if !e.CanDelete("s3cret") {
		t.Error("CanDelete(right secret) = false")
	}
	if e.CanDelete("other") || e.CanDelete("") || (Entry{DeleteHash: HashSecret("")}).CanDelete("") {
		t.Error("CanDelete accepted a wrong or empty secret")
	}
}
