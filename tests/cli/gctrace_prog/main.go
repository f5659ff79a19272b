// main.go - the Go program of tests/cli/test_import_go.sh: run with
// GODEBUG=gctrace=1, it prints Go's GC trace lines on stderr between lines
// of its own (which `gctune import gctrace` must ignore).
//
// Keeps a few MiB live in a ring and allocates garbage in 32 KiB chunks,
// enough for the pacer to run a few dozen cycles, then forces one cycle
// with runtime.GC().  Its own stderr line is written before the first
// cycle only: the runtime prints a trace line in pieces, a write from the
// program in between splits it, and the line of the cycle runtime.GC()
// waits for can still be in the middle of printing when it returns (the
// test checks a split line with a synthetic file and --lenient).
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

var sink []byte

func main() {
	fmt.Fprintln(os.Stderr, "gctrace_prog: starting")
	live := make([][]byte, 128)
	for i := 0; i < 4000; i++ {
		b := make([]byte, 32<<10)
		b[0] = byte(i)
		live[i%len(live)] = b
		sink = make([]byte, 16<<10)
	}
	runtime.GC()
	// Let the runtime finish printing the trace line of that cycle before
	// the process exits (it can still be printing when GC returns).
	time.Sleep(200 * time.Millisecond)
	fmt.Println("gctrace_prog: done", len(live))
}
