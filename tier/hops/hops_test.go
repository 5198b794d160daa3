package hops

import (
	"reflect"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
)

func TestAnInstanceHopIsItsIdThenEachParameterThatIsSet(t *testing.T) {
	tests := []struct {
		inst config.Instance
		want string
	}{
		{config.Instance{ID: "web-1", Zone: "ap-northeast-2a", Subnet: "10.0.1.0/24"}, "web-1; zone=ap-northeast-2a; subnet=10.0.1.0/24"},
		{config.Instance{ID: "web-1", Zone: "ap-northeast-2a"}, "web-1; zone=ap-northeast-2a"},
		{config.Instance{ID: "ip-10-0-1-5.ec2.internal"}, "ip-10-0-1-5.ec2.internal"},
		{config.Instance{ID: "web 1;zone=fake", Zone: "a,b"}, "web_1_zone_fake; zone=a_b"},
		{config.Instance{ID: "<script>", Zone: "서울"}, "_script_; zone=______"},
	}
	for _, tt := range tests {
		if got := Of(tt.inst).Header(); got != tt.want {
			t.Errorf("Of(%+v).Header() = %q, want %q", tt.inst, got, tt.want)
		}
	}
}

func TestParseInstanceReadsWhatHeaderWrites(t *testing.T) {
	for _, in := range []Instance{
		{ID: "web-1", Zone: "ap-northeast-2a", Subnet: "10.0.1.0/24"},
		{ID: "web-1", Subnet: "fe80::/64"},
		{ID: "web-1"},
	} {
		if got, ok := ParseInstance(in.Header()); !ok || got != in {
			t.Errorf("ParseInstance(%q) = %+v, %v; want %+v", in.Header(), got, ok, in)
		}
	}
}

func TestParseInstanceRefusesWhatCouldPutMoreThanWordsOnAPage(t *testing.T) {
	for _, v := range []string{
		"",
		"; zone=a",
		"<script>alert(1)</script>",
		"web-1; zone=<b>",
		"web-1; role=primary",
		"web-1; zone",
		"web 1",
		"web-1; zone=a b",
		"web-1\r\nSet-Cookie: x=1",
		"웹-1",
		"web-1; zone=" + string(make([]byte, 64)),
	} {
		if got, ok := ParseInstance(v); ok {
			t.Errorf("ParseInstance(%q) accepted %+v", v, got)
		}
	}
}

func TestTheWebLoadHeaderCarriesTwoCountsAndNothingElse(t *testing.T) {
	l := Load{Limit: 512, InFlight: 3}
	if got, ok := ParseLoad(l.Header()); !ok || got != l {
		t.Errorf("round trip of %+v gave %+v, %v", l, got, ok)
	}
	for _, bad := range []string{"", "limit=1", "limit=x; in_flight=1", "limit=1; in_flight=-1",
		"limit=1; in_flight=1; evil=<b>", "in_flight=1; limit=1", "limit=99999999999; in_flight=1"} {
		if got, ok := ParseLoad(bad); ok {
			t.Errorf("ParseLoad(%q) = %+v, want it refused", bad, got)
		}
	}
}

func TestTheDatabaseHopNamesTheServerItsRoleAndItsLagInSeconds(t *testing.T) {
	tests := []struct {
		db   DB
		want string
	}{
		{DB{Name: "replica-1", Role: "replica", Lag: 42 * time.Millisecond}, "replica-1; role=replica; lag=0.042"},
		{DB{Name: "db-seoul-c", Role: "replica", Lag: 1500*time.Millisecond + 400*time.Microsecond}, "db-seoul-c; role=replica; lag=1.5"},
		{DB{Name: "primary", Role: "primary"}, "primary; role=primary; lag=0"},
	}
	for _, tt := range tests {
		if got := tt.db.Header(); got != tt.want {
			t.Errorf("%+v.Header() = %q, want %q", tt.db, got, tt.want)
		}
	}
}

func TestTheUpstreamsHeaderCarriesOnlyNamesFlagsAndCounts(t *testing.T) {
	list := []Upstream{
		{Name: "app-1", Zone: "ap-northeast-2a", Healthy: true, Requests: 12, Failures: 1, RecentSeconds: 60},
		{Name: "upstream-2"},
	}
	got, ok := ParseUpstreams(UpstreamsHeader(list))
	if !ok || !reflect.DeepEqual(got, list) {
		t.Errorf("round trip gave %+v, %v; want %+v", got, ok, list)
	}
	for _, v := range []string{
		`[{"name":"<img src=x onerror=alert(1)>","healthy":true}]`,
		`[{"name":"app-1","zone":"a b"}]`,
		`[{"name":""}]`,
		`{"name":"app-1"}`,
		`not json`,
	} {
		if got, ok := ParseUpstreams(v); ok {
			t.Errorf("ParseUpstreams(%q) accepted %+v", v, got)
		}
	}
}

func TestACacheViewReadsBackAndAnythingElseIsRefused(t *testing.T) {
	c := CacheView{Entries: 12, Bytes: 180224, MaxBytes: 8 << 20, HitRatio: 0.93}
	if got, ok := ParseCacheView(c.Header()); !ok || got != c {
		t.Errorf("ParseCacheView(%q) = %+v, %v", c.Header(), got, ok)
	}
	for _, bad := range []string{"", "entries=1", "entries=-1; bytes=0; max_bytes=0; hit_ratio=0.00",
		"entries=1; bytes=2; max_bytes=3; hit_ratio=1.50", "entries=1; bytes=2; max_bytes=3; hit_ratio=NaN",
		"bytes=2; entries=1; max_bytes=3; hit_ratio=0.10", "entries=1; bytes=2; max_bytes=3; hit_ratio=0.1<"} {
		if got, ok := ParseCacheView(bad); ok {
			t.Errorf("ParseCacheView(%q) = %+v, want it refused", bad, got)
		}
	}
}
