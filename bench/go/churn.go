//go:build ignore

// churn.go - Go port of bench/churn.c: a steady live set of L MB of objects
// of random size 16..1024 bytes (same xorshift sequence as the C version),
// S% pointer-kind ([]unsafe.Pointer, scanned) and the rest []byte (noscan);
// after the fill each step replaces a random slot until A x L bytes have been
// allocated.  The old object simply becomes garbage.
//
// Build (no network, standard library only), from bench/go:
//
//	go build -o churn churn.go
//
// Usage: churn [-l LIVE_MB] [-a ALLOC_MULT] [-s SCAN_PCT]   (defaults 64, 10, 50)
// Prints:
//
//	churn go live_mb=L alloc_x=A scan_pct=S slots=N steps=M wall=Ws cpu=Cs maxrss_kb=K gcs=G
//	      churn_wall=Ws Msteps_s=X alloc_MBps=Y
//
// wall/cpu cover the fill and the churn; churn_wall, Msteps_s and alloc_MBps
// (MB = 2^20 bytes requested per second) cover only the churn loop, as in
// churn.c.  Pauses: run with GODEBUG=gctrace=1 (bench/run.sh --suite pauses
// parses the trace on stderr).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

const (
	minSize  = 16
	maxSize  = 1024
	meanSize = (minSize + maxSize) / 2
)

var (
	anchor         int64  // global: pointers to it are never heap edges
	rng            uint64 = 88172645463325252
	bytesRequested uint64
)

func xorshift() uint64 {
	x := rng
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	rng = x
	return x
}

func newObject(scanPct uint64, tag uint64) unsafe.Pointer {
	r := xorshift()
	n := minSize + int(r%(maxSize-minSize+1))
	bytesRequested += uint64(n)
	if (r>>32)%100 < scanPct {
		p := make([]unsafe.Pointer, (n+7)/8)
		p[0] = unsafe.Pointer(&anchor)
		return unsafe.Pointer(&p[0])
	}
	b := make([]byte, n)
	b[0] = byte(tag)
	b[n/2] = byte(tag >> 8)
	b[n-1] = byte(tag >> 16)
	return unsafe.Pointer(&b[0])
}

func cpuSeconds() (float64, int64) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)*1e-6
	return cpu, ru.Maxrss
}

func main() {
	liveMB := flag.Uint64("l", 64, "live set, MB")
	mult := flag.Uint64("a", 10, "total allocation after the fill, as a multiple of the live set")
	scanPct := flag.Uint64("s", 50, "percent of objects that are pointer-kind (scanned)")
	flag.Parse()
	if flag.NArg() != 0 || *liveMB == 0 || *mult == 0 || *scanPct > 100 {
		flag.Usage()
		os.Exit(2)
	}

	nslots := int(*liveMB<<20) / meanSize
	steps := uint64(nslots) * *mult

	t0 := time.Now()
	c0, _ := cpuSeconds()

	slots := make([]unsafe.Pointer, nslots)
	for i := range slots {
		slots[i] = newObject(*scanPct, uint64(i))
	}
	t1 := time.Now()
	bytes0 := bytesRequested
	for i := uint64(0); i < steps; i++ {
		k := xorshift() % uint64(nslots)
		slots[k] = newObject(*scanPct, i)
	}

	cwall := time.Since(t1).Seconds()
	wall := time.Since(t0).Seconds()
	c1, maxrss := cpuSeconds()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var msteps, mbps float64
	if cwall > 0 {
		msteps = float64(steps) / cwall / 1e6
		mbps = float64(bytesRequested-bytes0) / (1 << 20) / cwall
	}
	fmt.Printf("churn go live_mb=%d alloc_x=%d scan_pct=%d slots=%d steps=%d wall=%.3fs cpu=%.3fs maxrss_kb=%d gcs=%d"+
		" churn_wall=%.3fs Msteps_s=%.3f alloc_MBps=%.1f\n",
		*liveMB, *mult, *scanPct, nslots, steps, wall, c1-c0, maxrss, ms.NumGC, cwall, msteps, mbps)
	runtime.KeepAlive(slots)
}
