package terraform

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

const example = "terraform.tfvars.example"

// terraform finds the terraform binary (on the PATH, or where these
// machines install it), or skips the test: it is not in Debian, so .ci/run
// can't install it, and the checks that need no binary, below, run anyway.
func terraform(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("terraform"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/local/bin/terraform"); err == nil {
		return "/usr/local/bin/terraform"
	}
	t.Skip("terraform is not installed: terraform fmt -check not run (the HCL checks still run)")
	return ""
}

// fmtCheck runs terraform fmt -check on every .tf file under dir, and on
// extra (a file terraform fmt would not pick by its name) through stdin.
func fmtCheck(bin, dir string, extra []byte) error {
	cmd := exec.Command(bin, "fmt", "-check", "-recursive", "-diff", dir)
	cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("terraform fmt -check -recursive %s: %v\n%s", dir, err, out)
	}
	if extra != nil {
		cmd := exec.Command(bin, "fmt", "-check", "-")
		cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		cmd.Stdin = bytes.NewReader(extra)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("terraform fmt -check (%s): %v\n%s", example, err, out)
		}
	}
	return nil
}

func TestTerraformIsFormatted(t *testing.T) {
	bin := terraform(t)
	src, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	if err := fmtCheck(bin, ".", src); err != nil {
		t.Error(err)
	}
}

func TestEveryReferenceResolves(t *testing.T) {
	noErrors(t, mustLoad(t, nil).checkReferences())
}

// exampleValues loads the module's example tfvars, failing the test on any
// problem with it.
func exampleValues(t *testing.T, m *module) map[string]cty.Value {
	t.Helper()
	values, errs := m.exampleValues(example)
	noErrors(t, errs)
	return values
}

func TestTheExampleGivesEveryRequiredVariableAndNoOther(t *testing.T) {
	exampleValues(t, mustLoad(t, nil))
}

func TestEveryVariableHasATypeADescriptionAndPassesItsValidation(t *testing.T) {
	m := mustLoad(t, nil)
	noErrors(t, m.checkVariables(exampleValues(t, m)))
}

func TestUserDataRendersToConfigurationsTheBinaryAccepts(t *testing.T) {
	m := mustLoad(t, nil)
	ports, errs := m.checkBootScripts(exampleValues(t, m))
	noErrors(t, errs)
	if ports.web == 0 || ports.app == 0 || ports.appLB == 0 || ports.db == 0 {
		t.Errorf("ports read from the rendered configurations: %+v, want all four", ports)
	}
}

func TestUserDataRendersWithABinaryFromAReleaseURLToo(t *testing.T) {
	m := mustLoad(t, nil)
	values := exampleValues(t, m)
	values["binary_url"] = cty.StringVal("https://github.com/guestbook/guestbook/releases/download/v1.0.0/guestbook-1.0.0-1.x86_64.rpm")
	values["binary_sha256"] = cty.StringVal(strings.Repeat("ab", 32))
	_, errs := m.checkBootScripts(values)
	noErrors(t, errs)
	text, err := m.renderUserData("web", values)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"curl ", values["binary_url"].AsString(), "sha256sum --check"} {
		if !strings.Contains(text, want) {
			t.Errorf("web user data lacks %q", want)
		}
	}
}

func TestOnlyTheAppTierUserDataNamesTheSecret(t *testing.T) {
	m := mustLoad(t, nil)
	values := exampleValues(t, m)
	arn := fakeAttributes["aws_secretsmanager_secret.app.arn"].AsString()
	for _, role := range roles {
		text, err := m.renderUserData(role, values)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(text, arn); got != (role == "app") {
			t.Errorf("%s user data names the secret: %v, want %v", role, got, role == "app")
		}
		for _, secret := range []string{"db_password", "admin_token"} {
			if strings.Contains(text, shellValues[secret]) {
				t.Errorf("%s user data contains %s's value", role, secret)
			}
		}
	}
}

// tierPortsOf renders the user data and returns the ports, failing the
// test if it cannot.
func tierPortsOf(t *testing.T, m *module) (tierPorts, map[string]cty.Value) {
	t.Helper()
	values := exampleValues(t, m)
	ports, errs := m.checkBootScripts(values)
	if len(errs) > 0 {
		t.Fatalf("user data: %v", errors.Join(errs...))
	}
	return ports, values
}

func TestSecurityGroupsOpenExactlyTheTiersPorts(t *testing.T) {
	m := mustLoad(t, nil)
	ports, values := tierPortsOf(t, m)
	ctx, err := m.evalContext(values)
	if err != nil {
		t.Fatal(err)
	}
	noErrors(t, m.checkSecurityGroups(ports, ctx))
}

func TestLoadBalancersAndDatabaseUseTheTiersPortsAndInstancesRequireIMDSv2(t *testing.T) {
	m := mustLoad(t, nil)
	ports, values := tierPortsOf(t, m)
	ctx, err := m.evalContext(values)
	if err != nil {
		t.Fatal(err)
	}
	noErrors(t, m.checkTargets(ports, ctx))
}
