package instance

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
)

// fakeIMDS is a local stand-in for the EC2 instance metadata service with
// IMDSv2 required: a GET without the token it handed out gets 401, as on an
// instance whose launch template sets http_tokens = "required". Tests only
// ever talk to this, never to 169.254.169.254.
type fakeIMDS struct {
	values map[string]string // path under /latest/meta-data/ → value
	token  string            // "" : the PUT is refused (IMDSv1 only)
	delay  time.Duration     // before every answer

	mu       sync.Mutex
	requests []string // "METHOD path", in order
}

func (f *fakeIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
		if f.token == "" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "missing ttl", http.StatusBadRequest)
			return
		}
		w.Write([]byte(f.token))
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if f.token == "" || r.Header.Get("X-aws-ec2-metadata-token") != f.token {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	v, ok := f.values[strings.TrimPrefix(r.URL.Path, "/latest/meta-data/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write([]byte(v))
}

func (f *fakeIMDS) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// startFake serves f on a loopback port and returns a client of it.
func startFake(t *testing.T, f *fakeIMDS) *EC2 {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return NewEC2(srv.URL, DefaultTimeout)
}

// anInstance is what the service says on a web instance in the first AZ.
func anInstance() *fakeIMDS {
	return &fakeIMDS{
		token: "AQAEAExampleToken==",
		values: map[string]string{
			"instance-id":                 "i-0123456789abcdef0",
			"placement/availability-zone": "ap-northeast-2a",
			"mac":                         "0e:12:34:56:78:9a",
			"network/interfaces/macs/0e:12:34:56:78:9a/subnet-ipv4-cidr-block": "10.0.10.0/24",
			"network/interfaces/macs/0e:12:34:56:78:9a/subnet-id":              "subnet-0abc",
		},
	}
}

func TestIdentityReadsIDZoneAndSubnetCIDRWithASessionToken(t *testing.T) {
	fake := anInstance()
	id, err := startFake(t, fake).Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Identity{ID: "i-0123456789abcdef0", Zone: "ap-northeast-2a", Subnet: "10.0.10.0/24"}
	if id != want {
		t.Errorf("Identity = %+v, want %+v", id, want)
	}
	seen := fake.seen()
	if len(seen) == 0 || seen[0] != "PUT /latest/api/token" {
		t.Errorf("first request %q, want the token PUT first (IMDSv2)", seen)
	}
}

func TestIdentityFailsWhenTheServiceGivesNoToken(t *testing.T) {
	fake := anInstance()
	fake.token = "" // IMDSv1 only: our instances require v2, so this is an error, not a fallback
	_, err := startFake(t, fake).Identity(context.Background())
	if err == nil || !strings.Contains(err.Error(), "metadata token") {
		t.Fatalf("err = %v, want one about the metadata token", err)
	}
}

func TestIdentityErrorNamesTheValueThatWasMissing(t *testing.T) {
	fake := anInstance()
	delete(fake.values, "network/interfaces/macs/0e:12:34:56:78:9a/subnet-ipv4-cidr-block")
	_, err := startFake(t, fake).Identity(context.Background())
	if err == nil || !strings.Contains(err.Error(), "subnet-ipv4-cidr-block") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("err = %v, want one naming subnet-ipv4-cidr-block and the 404", err)
	}
}

func TestIdentityRefusesAnEmptyValue(t *testing.T) {
	fake := anInstance()
	fake.values["placement/availability-zone"] = "  \n"
	_, err := startFake(t, fake).Identity(context.Background())
	if err == nil || !strings.Contains(err.Error(), "availability-zone") {
		t.Fatalf("err = %v, want one naming availability-zone", err)
	}
}

func TestIdentityRefusesAMACThatIsNotOne(t *testing.T) {
	fake := anInstance()
	fake.values["mac"] = "../../instance-id"
	_, err := startFake(t, fake).Identity(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not a MAC address") {
		t.Fatalf("err = %v, want one saying the mac is not a MAC address", err)
	}
}

func TestIdentityGivesUpAfterItsTimeout(t *testing.T) {
	fake := anInstance()
	fake.delay = 5 * time.Second
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	start := time.Now()
	_, err := NewEC2(srv.URL, 100*time.Millisecond).Identity(context.Background())
	if err == nil {
		t.Fatal("Identity succeeded against a service that never answers in time")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("gave up after %s, want about the 100ms timeout", took)
	}
}

func TestResolveWithEC2ReplacesWhatTheConfigurationSays(t *testing.T) {
	md := startFake(t, anInstance())
	cfg := config.Instance{ID: "the-hostname", Zone: "zone-a", Subnet: "10.9.9.0/24", Metadata: "ec2", Drain: time.Second}
	got, err := Resolve(context.Background(), cfg, md)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Instance{ID: "i-0123456789abcdef0", Zone: "ap-northeast-2a", Subnet: "10.0.10.0/24", Metadata: "ec2", Drain: time.Second}
	if got != want {
		t.Errorf("Resolve = %+v, want %+v", got, want)
	}
}

func TestResolveWithoutMetadataKeepsTheConfigurationAndAsksNobody(t *testing.T) {
	fake := anInstance()
	md := startFake(t, fake)
	for _, mode := range []string{"", "none"} {
		cfg := config.Instance{ID: "web-1", Zone: "zone-a", Subnet: "10.0.1.0/24", Metadata: mode}
		got, err := Resolve(context.Background(), cfg, md)
		if err != nil {
			t.Fatalf("metadata %q: %v", mode, err)
		}
		if got != cfg {
			t.Errorf("metadata %q: Resolve = %+v, want it unchanged", mode, got)
		}
	}
	if seen := fake.seen(); len(seen) != 0 {
		t.Errorf("the metadata service was asked %q with metadata none", seen)
	}
}

func TestResolveErrorNamesTheKey(t *testing.T) {
	fake := anInstance()
	fake.token = ""
	_, err := Resolve(context.Background(), config.Instance{Metadata: "ec2"}, startFake(t, fake))
	if err == nil || !strings.HasPrefix(err.Error(), "instance.metadata: ") {
		t.Fatalf("err = %v, want it to start with the key instance.metadata", err)
	}
	_, err = Resolve(context.Background(), config.Instance{Metadata: "gce"}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "instance.metadata: ") {
		t.Fatalf("err = %v, want it to start with the key instance.metadata", err)
	}
}
