package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/guestbook/guestbook/config"
)

// TestTheAdminModeratesOnAPhone: with pre-moderation, a visitor's entry
// waits and the visitor is told so; the admin signs in on a phone-sized
// screen, sees the entry with its email, approves it, and it shows in the
// list; then deletes everything from its source after seeing the count.
// Every admin page fits the screen.
func TestTheAdminModeratesOnAPhone(t *testing.T) {
	const token = "browser-admin-token-0123456789abcdef"
	base := startGuestbookWith(t, func(c *config.Config) {
		c.App.AdminToken, c.App.Moderation = token, config.ModerationPre
	})
	b := newBrowser(t)
	fits := func(what string) {
		t.Helper()
		if get(t, b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)) {
			t.Errorf("%s is wider than a 390px phone screen", what)
		}
	}
	b.do(t,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/visitor/visitor_create/?lang=ko"),
		chromedp.SendKeys(chromedp.CSS(`#name`), "김검토"),
		chromedp.SendKeys(chromedp.CSS(`#email`), "review@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#content`), "승인을 기다립니다"),
		personPause,
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)),
	)
	if got := b.text(t, ".notice"); !strings.Contains(got, "관리자가 승인하면") {
		t.Errorf("the author is told %q, want that the entry waits for approval", got)
	}
	if n := get(t, b, chromedp.Evaluate[int](`document.querySelectorAll("ol.entries li").length`)); n != 0 {
		t.Errorf("the list shows %d entries while the only one waits", n)
	}

	b.do(t,
		chromedp.Navigate(base+"/visitor/admin/"),
		chromedp.WaitVisible(chromedp.CSS(`#admin_token`)),
	)
	fits("the sign-in page")
	b.do(t,
		chromedp.SendKeys(chromedp.CSS(`#admin_token`), token),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`ol.entries.admin`)),
	)
	fits("the admin's list")
	if got := b.text(t, "ol.entries.admin"); !strings.Contains(got, "review@example.com") || !strings.Contains(got, "승인 대기") {
		t.Errorf("the admin's list shows %q, want the email and that it waits", got)
	}
	b.do(t,
		chromedp.Click(chromedp.CSS(`ol.entries.admin input[name=id]`)),
		chromedp.Click(chromedp.CSS(`button[value=approve]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice[role=status]`)),
	)
	if got := b.text(t, "p.notice[role=status]"); !strings.Contains(got, "1개를 승인") {
		t.Errorf("after approving the admin is told %q", got)
	}
	b.do(t,
		chromedp.Navigate(base+"/visitor/visitor_list/"),
		chromedp.WaitVisible(chromedp.CSS(`ol.entries`)),
	)
	if got := b.text(t, "ol.entries"); !strings.Contains(got, "승인을 기다립니다") {
		t.Errorf("the approved entry is not in the list: %q", got)
	}

	b.do(t,
		chromedp.Navigate(base+"/visitor/admin/"),
		chromedp.Click(chromedp.CSS(`dd.source a`)),
		chromedp.WaitVisible(chromedp.CSS(`form button.danger`)),
	)
	fits("the source's page")
	if got := b.text(t, "p.alert"); !strings.Contains(got, "1개를 모두 삭제") {
		t.Errorf("the source's page says %q, want its count", got)
	}
	b.do(t,
		chromedp.Click(chromedp.CSS(`form button.danger`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice[role=status]`)),
	)
	if got := b.text(t, "p.notice[role=status]"); !strings.Contains(got, "1개를 삭제") {
		t.Errorf("after deleting the source the admin is told %q", got)
	}
	b.assertOnlyLocalRequests(t, base)
}
