package tier_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/guestbook/guestbook/"

// goList runs go list with format over pkgs and returns the words it
// printed.
func goList(t *testing.T, format string, pkgs ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-f", format}, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(pkgs, " "), err)
	}
	return strings.Fields(string(out))
}

// The web tier never touches the database: neither it nor the packages it
// shares with the app tier may depend on the store, even indirectly.
func TestTheWebTierDependsOnNothingOfTheStore(t *testing.T) {
	for _, pkg := range []string{"./web", "./hops", "./page", "./forwarded", "./reqlog"} {
		deps := goList(t, `{{join .Deps " "}}`, pkg)
		for _, forbidden := range []string{module + "store", module + "tier/app"} {
			if slices.Contains(deps, forbidden) {
				t.Errorf("tier/%s depends on %s", strings.TrimPrefix(pkg, "./"), forbidden)
			}
		}
	}
}

// The web tier's tests meet the app tier only over HTTP, as the web role
// does: they may build the app role through the process, never import the
// app tier or the store themselves.
func TestTheWebTiersTestsImportNeitherTheAppTierNorTheStore(t *testing.T) {
	imports := goList(t, `{{join .TestImports " "}} {{join .XTestImports " "}}`, "./web")
	for _, forbidden := range []string{module + "tier/app", module + "store", module + "store/storetest"} {
		if slices.Contains(imports, forbidden) {
			t.Errorf("a test of tier/web imports %s", forbidden)
		}
	}
}
