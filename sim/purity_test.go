package sim_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPure keeps the simulator deterministic (the rules of
// internal/purity, but for the PRNG): its files (tests apart) import
// nothing that does I/O or reads ambient state, no driver, read no clock,
// start no goroutine and use no channel; math/rand/v2 serves only to make
// the seeded generator (rand.New, rand.NewPCG, the Rand type), never its
// global source.
func TestPure(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		checked++
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]string{} // local name -> import path
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case path == "net" || path == "os" || path == "syscall" || path == "io/fs" || path == "crypto/rand" ||
				path == "math/rand" || path == "log" || path == "log/slog" || path == "runtime" || path == "runtime/debug" || path == "unsafe" ||
				strings.HasPrefix(path, "os/") || strings.HasPrefix(path, "net/http") || strings.Contains(path, "/drivers"):
				t.Errorf("%s imports %s", fset.Position(imp.Pos()), path)
			}
			name := path[strings.LastIndex(path, "/")+1:]
			if path == "math/rand/v2" {
				name = "rand"
			}
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = path
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s starts a goroutine", fset.Position(n.Pos()))
			case *ast.ChanType:
				t.Errorf("%s uses a channel", fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				id, ok := n.X.(*ast.Ident)
				if !ok {
					break
				}
				switch names[id.Name] {
				case "time":
					switch n.Sel.Name {
					case "Now", "Since", "Until", "Sleep", "After", "AfterFunc", "NewTimer", "NewTicker", "Tick":
						t.Errorf("%s reads the clock: time.%s", fset.Position(n.Pos()), n.Sel.Name)
					}
				case "math/rand/v2":
					switch n.Sel.Name {
					case "New", "NewPCG", "Rand":
					default:
						t.Errorf("%s uses rand.%s: only the seeded generator may be used", fset.Position(n.Pos()), n.Sel.Name)
					}
				}
			}
			return true
		})
	}
	if checked < 5 {
		t.Fatalf("only %d files checked", checked)
	}
}
