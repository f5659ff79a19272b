//go:build ignore

// binary_trees.go - Go port of bench/binary_trees.c (benchmarks-game
// binary-trees, single goroutine, same algorithm and output).
//
// Build (no network, standard library only), from bench/go:
//
//	go build -o binary_trees binary_trees.go
//
// Usage: binary_trees [DEPTH]   (default 21)
// Prints the usual lines, then:
//
//	binary_trees go depth=D wall=Ws cpu=Cs maxrss_kb=K gcs=G
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

type node struct {
	left, right *node
}

func bottomUpTree(depth uint) *node {
	if depth == 0 {
		return &node{}
	}
	l := bottomUpTree(depth - 1)
	r := bottomUpTree(depth - 1)
	return &node{l, r}
}

func (t *node) itemCheck() int64 {
	if t.left == nil {
		return 1
	}
	return 1 + t.left.itemCheck() + t.right.itemCheck()
}

func cpuSeconds() (float64, int64) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)*1e-6
	return cpu, ru.Maxrss
}

func main() {
	const minDepth = 4
	n := uint(21)
	if len(os.Args) > 2 {
		fmt.Fprintf(os.Stderr, "usage: %s [DEPTH]\n", os.Args[0])
		os.Exit(2)
	}
	if len(os.Args) == 2 {
		v, err := strconv.ParseUint(os.Args[1], 10, 32)
		if err != nil || v == 0 || v > 30 {
			fmt.Fprintf(os.Stderr, "%s: DEPTH: '%s' is not an integer in 1..30\n", os.Args[0], os.Args[1])
			os.Exit(2)
		}
		n = uint(v)
	}
	maxDepth := n
	if maxDepth < minDepth+2 {
		maxDepth = minDepth + 2
	}

	t0 := time.Now()
	c0, _ := cpuSeconds()

	stretch := bottomUpTree(maxDepth + 1)
	fmt.Printf("stretch tree of depth %d\t check: %d\n", maxDepth+1, stretch.itemCheck())
	stretch = nil

	longLived := bottomUpTree(maxDepth)

	for d := uint(minDepth); d <= maxDepth; d += 2 {
		iterations := int64(1) << (maxDepth - d + minDepth)
		check := int64(0)
		for i := int64(0); i < iterations; i++ {
			check += bottomUpTree(d).itemCheck()
		}
		fmt.Printf("%d\t trees of depth %d\t check: %d\n", iterations, d, check)
	}
	fmt.Printf("long lived tree of depth %d\t check: %d\n", maxDepth, longLived.itemCheck())

	wall := time.Since(t0).Seconds()
	c1, maxrss := cpuSeconds()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("binary_trees go depth=%d wall=%.3fs cpu=%.3fs maxrss_kb=%d gcs=%d\n",
		maxDepth, wall, c1-c0, maxrss, ms.NumGC)
	runtime.KeepAlive(stretch)
}
