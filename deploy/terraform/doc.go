// Package terraform has no code of its own: it is the directory of the
// Terraform that deploys guestbook on AWS (see README.md here), and its Go
// tests check that Terraform statically, since no cloud account or provider
// registry is reachable where the suite runs. They run terraform fmt when a
// terraform binary is installed; parse every .tf file with hcl/v2 and check
// that every reference resolves and every variable is typed, described and
// valid at its default; check that the security groups open exactly the
// tiers' ports; and render each tier's user data, as templatefile would,
// into env files that the binary's own configuration loader must accept.
package terraform
