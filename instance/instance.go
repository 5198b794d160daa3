// Package instance tells a guestbook process which machine it runs on (the
// instance id, availability zone and subnet its pages show): from the
// configuration, or, with instance.metadata set to ec2, from the EC2 instance
// metadata service, so that every instance of an auto-scaling group names
// itself correctly from one launch template.
package instance

import (
	"context"
	"fmt"

	"github.com/guestbook/guestbook/config"
)

// Resolve returns cfg with ID, Zone and Subnet filled in as cfg.Metadata
// says. With "" or "none" it returns cfg unchanged and never calls md. With
// "ec2" the metadata service's values replace all three, whatever the
// configuration set: under an auto-scaling group the same configuration runs
// on every instance, so a value written in it would be wrong on all but one.
func Resolve(ctx context.Context, cfg config.Instance, md *EC2) (config.Instance, error) {
	switch cfg.Metadata {
	case "", "none":
		return cfg, nil
	case "ec2":
		id, err := md.Identity(ctx)
		if err != nil {
			return cfg, fmt.Errorf("instance.metadata: ec2: %w", err)
		}
		cfg.ID, cfg.Zone, cfg.Subnet = id.ID, id.Zone, id.Subnet
		return cfg, nil
	default:
		return cfg, fmt.Errorf("instance.metadata: %q is not none or ec2", cfg.Metadata)
	}
}
