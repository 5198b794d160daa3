package instance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// EC2Endpoint is the link-local address of the EC2 instance metadata service.
const EC2Endpoint = "http://169.254.169.254"

// DefaultTimeout bounds each request to the metadata service. The service
// answers in milliseconds on an instance; off EC2 nothing answers at all, and
// serve should say so quickly rather than hang.
const DefaultTimeout = 2 * time.Second

// tokenTTL is how long the session token lives, in seconds. It is used for
// four reads at start, so a minute is plenty.
const tokenTTL = "60"

// EC2 reads this instance's identity from the EC2 instance metadata service
// with IMDSv2 (a session token from a PUT, then GETs that carry it), which
// works when the launch template requires tokens (http_tokens = "required").
type EC2 struct {
	endpoint string
	client   *http.Client
}

// NewEC2 returns a client of the metadata service at endpoint (EC2Endpoint on
// an instance; a test's fake elsewhere) whose requests each give up after
// timeout.
func NewEC2(endpoint string, timeout time.Duration) *EC2 {
	return &EC2{
		endpoint: strings.TrimSuffix(endpoint, "/"),
		client: &http.Client{
			Timeout: timeout,
			// Never through HTTP_PROXY: the service is link-local and a proxy
			// would answer for its own machine, or not at all.
			// No keep-alive: a few requests at start, then never again, so
			// an idle connection would only sit open for the process's life.
			Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		},
	}
}

// Identity is what the metadata service says about this instance.
type Identity struct {
	// ID is the instance id, such as i-0123456789abcdef0.
	ID string
	// Zone is the availability zone, such as ap-northeast-2a.
	Zone string
	// Subnet is the IPv4 CIDR block of the primary network interface's
	// subnet, such as 10.0.10.0/24: what the original's pages showed, and
	// readable without access to the AWS account, which a subnet id is not.
	Subnet string
}

// Identity asks the service for a token, then reads the instance id, the
// availability zone, and the primary interface's subnet (through its MAC).
func (e *EC2) Identity(ctx context.Context) (Identity, error) {
	token, err := e.token(ctx)
	if err != nil {
		return Identity{}, err
	}
	var id Identity
	if id.ID, err = e.get(ctx, token, "instance-id"); err != nil {
		return Identity{}, err
	}
	if id.Zone, err = e.get(ctx, token, "placement/availability-zone"); err != nil {
		return Identity{}, err
	}
	mac, err := e.get(ctx, token, "mac")
	if err != nil {
		return Identity{}, err
	}
	if _, err := net.ParseMAC(mac); err != nil { // it becomes part of the next path
		return Identity{}, fmt.Errorf("metadata mac: %q is not a MAC address", mac)
	}
	if id.Subnet, err = e.get(ctx, token, "network/interfaces/macs/"+mac+"/subnet-ipv4-cidr-block"); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// token starts an IMDSv2 session.
func (e *EC2) token(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, e.endpoint+"/latest/api/token", nil)
	if err != nil {
		return "", fmt.Errorf("metadata token: %w", err)
	}
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", tokenTTL)
	token, err := e.do(req)
	if err != nil {
		return "", fmt.Errorf("metadata token: %w", err)
	}
	return token, nil
}

// get reads one value under /latest/meta-data/.
func (e *EC2) get(ctx context.Context, token, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.endpoint+"/latest/meta-data/"+path, nil)
	if err != nil {
		return "", fmt.Errorf("metadata %s: %w", path, err)
	}
	req.Header.Set("X-aws-ec2-metadata-token", token)
	v, err := e.do(req)
	if err != nil {
		return "", fmt.Errorf("metadata %s: %w", path, err)
	}
	return v, nil
}

// do sends req and returns its body, trimmed, which must be a 200 with a
// short, non-empty, single-line value.
func (e *EC2) do(req *http.Request) (string, error) {
	resp, err := e.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, resp.Status)
	}
	v := strings.TrimSpace(string(body))
	if v == "" || strings.ContainsAny(v, "\r\n") {
		return "", errors.New(req.Method + " " + req.URL.Path + ": not one line of text")
	}
	return v, nil
}
