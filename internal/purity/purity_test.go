package purity

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/sansip/sansip"

// core lists the protocol core's packages (DESIGN.md §2), relative to the
// module root. Their subpackages are core too.
var core = []string{"parser", "message", "header", "uri", "ident", "effects", "txn", "dialog", "ua", "proxycore", "sdp", "digest", "locate", "dispatch", "stun"}

// banned are the imports that do I/O or read ambient state.
func banned(path string) bool {
	switch path {
	case "net", "os", "syscall", "io/fs", "crypto/rand", "math/rand", "math/rand/v2", "log", "log/slog",
		"runtime/debug", "net/rpc", "net/smtp", "os/exec", "os/signal", "os/user", "plugin":
		return true
	}
	return strings.HasPrefix(path, "net/http") || strings.HasPrefix(path, "os/")
}

// clock are the time functions that read the clock or wait.
var clock = map[string]bool{"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
	"AfterFunc": true, "NewTimer": true, "NewTicker": true, "Tick": true}

func root(t *testing.T) string {
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatal("module root not found")
	}
	return dir
}

// reporter is what check needs of a *testing.T.
type reporter interface {
	Errorf(format string, args ...any)
	Fatal(args ...any)
}

// check inspects one package directory's non-test files and returns the
// module-internal packages it imports.
func check(t reporter, rootDir, rel string) []string {
	files, _ := filepath.Glob(filepath.Join(rootDir, rel, "*.go"))
	var deps []string
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		timeName := ""
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if banned(path) {
				t.Errorf("%s imports %s", fset.Position(imp.Pos()), path)
			}
			if path == module+"/drivers" || strings.HasPrefix(path, module+"/drivers/") {
				t.Errorf("%s depends on %s", fset.Position(imp.Pos()), path)
			}
			if strings.HasPrefix(path, module+"/") {
				deps = append(deps, strings.TrimPrefix(path, module+"/"))
			}
			if path == "time" {
				timeName = "time"
				if imp.Name != nil {
					timeName = imp.Name.Name
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s starts a goroutine", fset.Position(n.Pos()))
			case *ast.ChanType:
				t.Errorf("%s uses a channel", fset.Position(n.Pos()))
			case *ast.SendStmt:
				t.Errorf("%s sends on a channel", fset.Position(n.Pos()))
			case *ast.UnaryExpr:
				if n.Op == token.ARROW {
					t.Errorf("%s receives from a channel", fset.Position(n.Pos()))
				}
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && timeName != "" && id.Name == timeName && clock[n.Sel.Name] {
					t.Errorf("%s reads the clock: time.%s", fset.Position(n.Pos()), n.Sel.Name)
				}
			}
			return true
		})
	}
	return deps
}

func TestCoreIsPure(t *testing.T) {
	rootDir := root(t)
	seen := map[string]bool{}
	var queue []string
	for _, c := range core {
		filepath.WalkDir(filepath.Join(rootDir, c), func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			rel, _ := filepath.Rel(rootDir, path)
			queue = append(queue, filepath.ToSlash(rel))
			return nil
		})
	}
	checked := 0
	for len(queue) > 0 {
		rel := queue[0]
		queue = queue[1:]
		if seen[rel] {
			continue
		}
		seen[rel] = true
		checked++
		queue = append(queue, check(t, rootDir, rel)...)
	}
	if !seen["message"] || !seen["uri"] || !seen["internal/abnf"] || !seen["ua/b2bua"] || !seen["locate"] || !seen["proxycore/location"] || !seen["proxycore/registrar"] {
		t.Fatalf("the walk missed core packages: %v", seen)
	}
	t.Logf("%d packages checked", checked)
}

// TestRulesBite makes sure the checker finds each kind of violation.
func TestRulesBite(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bad"), 0o755)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644)
	src := `package bad
import ("os"; clk "time")
func f() { go f(); c := make(chan int); c <- 1; <-c; _ = clk.Now(); _ = os.Args }
`
	os.WriteFile(filepath.Join(dir, "bad", "bad.go"), []byte(src), 0o644)
	rec := &recorder{}
	check(rec, dir, "bad")
	for _, want := range []string{"imports os", "goroutine", "channel", "sends", "receives", "time.Now"} {
		if !strings.Contains(strings.Join(rec.msgs, "\n"), want) {
			t.Errorf("no finding for %q in %q", want, rec.msgs)
		}
	}
}

type recorder struct{ msgs []string }

func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatal(args ...any) { r.msgs = append(r.msgs, fmt.Sprint(args...)) }
