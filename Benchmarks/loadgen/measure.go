package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The server's processes, measured from /proc: CPU time (user + system) and resident memory.
type server struct{ pids []int }

func parsePIDs(list string) server {
	var s server
	for _, f := range strings.Split(list, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			s.pids = append(s.pids, n)
		}
	}
	return s
}

const clockTicks = 100 // USER_HZ on Linux

// cpu returns the processes' CPU time so far.
func (s server) cpu() time.Duration {
	var ticks int64
	for _, pid := range s.pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command name (which may hold spaces) start after the last ')'.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(fields) > 12 {
			u, _ := strconv.ParseInt(fields[11], 10, 64)
			st, _ := strconv.ParseInt(fields[12], 10, 64)
			ticks += u + st
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// rssKB returns the processes' resident set in KiB.
func (s server) rssKB() int64 {
	var total int64
	for _, pid := range s.pids {
		f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "VmRSS:") {
				v, _ := strconv.ParseInt(strings.Fields(sc.Text())[1], 10, 64)
				total += v
			}
		}
		f.Close()
	}
	return total
}

// rssSplitKB returns the processes' anonymous and file-backed resident memory in KiB (RssAnon,
// RssFile): heap and stacks, against mapped code and store files that the kernel may drop.
func (s server) rssSplitKB() (anon, file int64) {
	for _, pid := range s.pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			v, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "RssAnon:":
				anon += v
			case "RssFile:":
				file += v
			}
		}
	}
	return anon, file
}

// socketMemKB is the kernel's TCP buffer memory (`/proc/net/sockstat`, pages of 4 KiB).
func socketMemKB() int64 {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "TCP:") {
			f := strings.Fields(line)
			for i := 0; i+1 < len(f); i++ {
				if f[i] == "mem" {
					pages, _ := strconv.ParseInt(f[i+1], 10, 64)
					return pages * 4
				}
			}
		}
	}
	return 0
}

// percentile of sorted durations, in milliseconds.
func percentileMS(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}

func sortDurations(d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
}
