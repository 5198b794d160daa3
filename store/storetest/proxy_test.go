package storetest

import (
	"bufio"
	"net"
	"testing"
	"time"
)

func TestAProxyPassesBytesAndDelaysTheServersAnswers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() { // an echo server
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 1024)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					c.Write(buf[:n])
				}
			}()
		}
	}()
	p := StartProxy(t, l.Addr().String())
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	echo := func() time.Duration {
		start := time.Now()
		if _, err := c.Write([]byte("ping\n")); err != nil {
			t.Fatal(err)
		}
		line, err := r.ReadString('\n')
		if err != nil || line != "ping\n" {
			t.Fatalf("echo through the proxy: %q, %v", line, err)
		}
		return time.Since(start)
	}
	if took := echo(); took > 50*time.Millisecond {
		t.Errorf("with no delay an echo took %s", took)
	}
	p.SetDelay(80 * time.Millisecond)
	if took := echo(); took < 80*time.Millisecond {
		t.Errorf("with an 80ms delay an echo took %s", took)
	}
}
