package config

import (
	"strings"
	"testing"
)

func TestInstanceMetadataIsEmptyByDefaultMeaningNone(t *testing.T) {
	if got := Default().Instance.Metadata; got != "" {
		t.Errorf("instance.metadata defaults to %q, want empty (none)", got)
	}
}

func TestInstanceMetadataAcceptsNoneAndEC2(t *testing.T) {
	for _, v := range []string{"", "none", "ec2"} {
		c := mustLoad(t, "", []string{"GUESTBOOK_INSTANCE_METADATA=" + v})
		if c.Instance.Metadata != v {
			t.Errorf("GUESTBOOK_INSTANCE_METADATA=%s loaded as %q", v, c.Instance.Metadata)
		}
	}
	c := mustLoad(t, writeFile(t, "instance:\n  metadata: ec2\n"), nil)
	if c.Instance.Metadata != "ec2" {
		t.Errorf("instance.metadata from the file = %q, want ec2", c.Instance.Metadata)
	}
}

func TestInstanceMetadataRefusesOtherSourcesNamingTheKey(t *testing.T) {
	for _, v := range []string{"EC2", "aws", "gce", "imds"} {
		c := Default()
		c.Instance.Metadata = v
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "instance.metadata: ") {
			t.Errorf("metadata %q: Validate = %v, want an error naming instance.metadata", v, err)
		}
	}
}
