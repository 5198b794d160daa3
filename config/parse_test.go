package config

import (
	"strings"
	"testing"
)

func TestParseNetworksReadsCIDRsAndSingleAddresses(t *testing.T) {
	tests := []struct {
		in      []string
		want    string // the parsed prefixes, space separated
		wantErr string
	}{
		{nil, "", ""},
		{[]string{"10.0.0.0/16"}, "10.0.0.0/16", ""},
		{[]string{"10.0.7.9/16"}, "10.0.0.0/16", ""}, // masked
		{[]string{" 10.0.0.5 "}, "10.0.0.5/32", ""},
		{[]string{"::ffff:10.0.0.5"}, "10.0.0.5/32", ""}, // unmapped
		{[]string{"fd00::/8", "2001:db8::1"}, "fd00::/8 2001:db8::1/128", ""},
		{[]string{"10.0.0.0/33"}, "", `"10.0.0.0/33" is not a CIDR or an IP address`},
		{[]string{"10.0.0"}, "", `"10.0.0" is not a CIDR or an IP address`},
		{[]string{"10.0.0.1", "lb.internal"}, "", `"lb.internal" is not a CIDR or an IP address`},
		{[]string{"10.0.0.1", ""}, "", `"" is not a CIDR or an IP address`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, ","), func(t *testing.T) {
			got, err := ParseNetworks(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("ParseNetworks(%q) = %v, %v; want the error %s", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseNetworks(%q): %v", tt.in, err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if strings.Join(s, " ") != tt.want {
				t.Errorf("ParseNetworks(%q) = %v, want %s", tt.in, s, tt.want)
			}
		})
	}
}

func TestParseUpstreamURLsReadsBaseURLs(t *testing.T) {
	tests := []struct {
		in      []string
		want    string // the parsed URLs, space separated
		wantErr string
	}{
		{nil, "", ""},
		{[]string{"http://10.0.2.10:8081"}, "http://10.0.2.10:8081", ""},
		{[]string{"http://10.0.2.10:8081/", "https://app.internal/base/"}, "http://10.0.2.10:8081 https://app.internal/base", ""},
		{[]string{"htp://x"}, "", `web.upstreams: "htp://x" is not an http(s) URL`},
		{[]string{"ftp://app:8081"}, "", `web.upstreams: "ftp://app:8081" is not an http(s) URL`},
		{[]string{"http://"}, "", `web.upstreams: "http://" is not an http(s) URL`},
		{[]string{"app:8081"}, "", `web.upstreams: "app:8081" is not an http(s) URL`},
		{[]string{"://no-scheme"}, "", `web.upstreams: "://no-scheme" is not an http(s) URL`},
		{[]string{"http://app:8081/?x=1"}, "", `web.upstreams: "http://app:8081/?x=1": a base URL has no query or fragment`},
		{[]string{"http://app:8081/#top"}, "", `web.upstreams: "http://app:8081/#top": a base URL has no query or fragment`},
		{[]string{"http://a:8081", "http://a:8081/"}, "", `web.upstreams: "http://a:8081/" is listed twice`},
		{[]string{"ftp://admin:hunter2@app:8081"}, "", `web.upstreams: "ftp://admin:xxxxx@app:8081" is not an http(s) URL`},
		{[]string{"http://admin:hunter2@app:8081/?x"}, "", `web.upstreams: "http://admin:xxxxx@app:8081/?x": a base URL has no query or fragment`},
		{[]string{"http://admin:hunter2@app:8081", "http://admin:hunter2@app:8081"}, "", `web.upstreams: "http://admin:xxxxx@app:8081" is listed twice`},
		{[]string{"http://admin:hun ter2@app:8081%zz"}, "", `web.upstreams: "xxxxx@app:8081%zz" is not an http(s) URL`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, ","), func(t *testing.T) {
			got, err := ParseUpstreamURLs(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("ParseUpstreamURLs(%q) = %v, %v; want the error %s", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseUpstreamURLs(%q): %v", tt.in, err)
			}
			var s []string
			for _, u := range got {
				s = append(s, u.String())
			}
			if strings.Join(s, " ") != tt.want {
				t.Errorf("ParseUpstreamURLs(%q) = %v, want %s", tt.in, s, tt.want)
			}
		})
	}
}
