// Command sansip is a command-line tool around the sansip SIP stack.
//
// Usage:
//
//	sansip <command> [arguments]
//
// The commands are:
//
//	parse     show SIP messages as sansip parses them: header fields, typed
//	          values, body, errors and the response a server would send
//	serve     run the sansip server: a registrar and forking proxy
//	options   send an OPTIONS request and show what the peer supports
//	register  register a contact for an address of record, or remove it
//	call      place a call, report each response, hang up after a while
//
// "sansip help <command>" describes a command and its flags.
//
// Exit status: 0 when everything went well; 1 when an input was not valid
// (a malformed message, a framing error) or, for the client commands
// (options, register, call), when the peer refused the request or did not
// answer; 2 for a usage or I/O error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit statuses.
const (
	exitOK      = 0 // every input was valid
	exitInvalid = 1 // an input was not (a malformed message, a framing error), or a request failed
	exitUsage   = 2 // bad arguments, or an input could not be read
)

// stdio is where a command reads and writes.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one subcommand of sansip. Adding a subcommand is writing its
// run function and adding a line to commands.
type command struct {
	name     string
	synopsis string // the arguments, for the usage line: "[--json] [FILE|-]..."
	summary  string // one line, for the command list
	help     string // what the command does, for "sansip help <name>"
	// run runs the command with the arguments after its name and returns
	// the exit status. Given "-h" it prints its help and returns exitOK.
	run func(args []string, io stdio) int
}

// commands are the subcommands, in the order the usage lists them.
var commands = []*command{
	parseCommand,
	serveCommand,
	optionsCommand,
	registerCommand,
	callCommand,
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs sansip with args (without the program name) and returns the exit
// status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sio := stdio{in: stdin, out: stdout, err: stderr}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			usage(stdout)
			return exitOK
		}
		c := lookup(rest[0])
		if c == nil {
			fmt.Fprintf(stderr, "sansip help: unknown command %q\n", rest[0])
			usage(stderr)
			return exitUsage
		}
		return c.run([]string{"-h"}, sio)
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "sansip: unknown command %q\n", name)
		usage(stderr)
		return exitUsage
	}
	return c.run(rest, sio)
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usage prints the list of commands.
func usage(w io.Writer) {
	fmt.Fprint(w, "sansip is a command-line tool around the sansip SIP stack.\n\nUsage:\n\n\tsansip <command> [arguments]\n\nCommands:\n\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun \"sansip help <command>\" for a command's flags.\n")
}

// flagSet returns the flag set of c, whose usage is c's help.
// When args ask for help, the whole help goes to stdout; after a bad flag,
// only the usage line goes to stderr.
func (c *command) flagSet(args []string, sio stdio) *flag.FlagSet {
	fs := flag.NewFlagSet("sansip "+c.name, flag.ContinueOnError)
	fs.SetOutput(sio.err)
	help := helpRequested(args)
	if help {
		fs.SetOutput(sio.out)
	}
	fs.Usage = func() {
		w := fs.Output()
		if !help {
			fmt.Fprintf(w, "usage: sansip %s %s\nRun \"sansip help %s\" for more.\n", c.name, c.synopsis, c.name)
			return
		}
		fmt.Fprintf(w, "usage: sansip %s %s\n\n%s\n", c.name, c.synopsis, strings.TrimSpace(c.help))
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprint(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args with fs, allowing flags after the operands
// ("sansip parse a.sip --json"); "--" ends the flags. It returns the
// operands and the exit status to return now, if any: exitOK for -h (the
// help was printed to stdout), exitUsage for a bad flag.
func parseFlags(fs *flag.FlagSet, args []string) (operands []string, status int, stop bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, true
			}
			return nil, exitUsage, true
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(operands, rest...), 0, false
		}
		if len(rest) == 0 {
			return operands, 0, false
		}
		operands = append(operands, rest[0])
		args = rest[1:]
	}
}

// helpRequested reports whether args asks for help, so that the help goes
// to stdout rather than stderr.
func helpRequested(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}
