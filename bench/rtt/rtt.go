// Load generator and sink for bench/toxiproxy.bench.ts, outside Node so the harness's own
// tail (GC, event loop, worker threads of one process) does not land in what it measures.
// Standard library only; compiled at bench time with Debian's `go`.
//
//	rtt sink                        listen on 127.0.0.1:0, print the port, serve until stdin closes
//	rtt tput BYTES TRIALS ADDR...   interleaved trials; one JSON line: MiB/s per address
//	rtt ping N BLOCKS ADDR...       N round trips per block and address, interleaved; one JSON
//	                                line: round-trip times in µs per address
//
// Sink protocol: a connection starting with 'C' + a big-endian uint64 count gets a 'k' once
// that many bytes followed (throughput); any other connection is echoed (round trips).
// Every loop is blocking read/write on one goroutine per connection and allocates nothing
// per round trip, so the runtime's GC and scheduler stay out of the way.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: rtt sink | tput BYTES TRIALS ADDR... | ping N BLOCKS ADDR...")
	}
	switch os.Args[1] {
	case "sink":
		sink()
	case "tput":
		tput(atoi(os.Args[2]), atoi(os.Args[3]), os.Args[4:])
	case "ping":
		ping(atoi(os.Args[2]), atoi(os.Args[3]), os.Args[4:])
	default:
		fail("unknown mode " + os.Args[1])
	}
}

func sink() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	// The parent closes stdin (or dies): stop.
	go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
	for {
		conn, err := ln.Accept()
		check(err)
		go serve(conn)
	}
}

func serve(conn net.Conn) {
	defer conn.Close()
	buf := make([]byte, 1<<20)
	n, err := conn.Read(buf)
	if err != nil {
		return
	}
	if n >= 9 && buf[0] == 'C' {
		left := int64(binary.BigEndian.Uint64(buf[1:9])) - int64(n-9)
		for left > 0 {
			n, err = conn.Read(buf)
			if err != nil {
				return
			}
			left -= int64(n)
		}
		conn.Write([]byte{'k'})
		io.Copy(io.Discard, conn)
		return
	}
	for err == nil {
		if _, werr := conn.Write(buf[:n]); werr != nil {
			return
		}
		n, err = conn.Read(buf)
	}
}

func dial(addr string) net.Conn {
	conn, err := net.Dial("tcp", addr) // TCP_NODELAY is Go's default
	check(err)
	return conn
}

func tput(total, trials int, addrs []string) {
	block := make([]byte, 1<<20)
	header := make([]byte, 9)
	ack := make([]byte, 1)
	header[0] = 'C'
	binary.BigEndian.PutUint64(header[1:], uint64(total))
	one := func(addr string) float64 {
		conn := dial(addr)
		defer conn.Close()
		start := time.Now()
		_, err := conn.Write(header)
		check(err)
		for sent := 0; sent < total; sent += len(block) {
			_, err = conn.Write(block)
			check(err)
		}
		_, err = io.ReadFull(conn, ack)
		check(err)
		return float64(total) / (1 << 20) / time.Since(start).Seconds()
	}
	out := map[string][]float64{}
	for _, addr := range addrs {
		one(addr) // warm-up
	}
	for i := 0; i < trials; i++ {
		for _, addr := range addrs {
			out[addr] = append(out[addr], one(addr))
		}
	}
	emit(out)
}

func ping(n, blocks int, addrs []string) {
	conns := make([]net.Conn, len(addrs))
	for i, addr := range addrs {
		conns[i] = dial(addr)
	}
	payload := make([]byte, 64)
	reply := make([]byte, 64)
	times := make([][]float64, len(addrs))
	for i := range times {
		times[i] = make([]float64, 0, n*blocks)
	}
	round := func(conn net.Conn) float64 {
		start := time.Now()
		_, err := conn.Write(payload)
		check(err)
		_, err = io.ReadFull(conn, reply)
		check(err)
		return float64(time.Since(start).Nanoseconds()) / 1000
	}
	for _, conn := range conns {
		for i := 0; i < 300; i++ { // warm-up: JIT of the Node proxy, TCP windows
			round(conn)
		}
	}
	// Short blocks, interleaved: a load spike of a few seconds lands on every path, not on one.
	for b := 0; b < blocks; b++ {
		for i, conn := range conns {
			for j := 0; j < n; j++ {
				times[i] = append(times[i], round(conn))
			}
		}
	}
	out := map[string][]float64{}
	for i, addr := range addrs {
		out[addr] = times[i]
	}
	emit(out)
}

func emit(v any) {
	check(json.NewEncoder(os.Stdout).Encode(v))
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	check(err)
	return n
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "rtt:", msg)
	os.Exit(1)
}
