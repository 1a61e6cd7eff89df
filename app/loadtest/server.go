package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Sample is one reading of a server's resources.
type Sample struct {
	At         time.Time
	RSSBytes   int64
	CPUSeconds float64
}

// Sampler reads a server's resident memory and CPU time.
type Sampler interface {
	Sample(ctx context.Context) (Sample, error)
}

// Process samples processes of this machine from /proc (Linux): the server nodes the tool or
// the make target started. RSS and CPU are summed over the processes.
type Process struct{ PIDs []int }

// pageSize is the kernel's page size (statm counts pages).
var pageSize = int64(os.Getpagesize())

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat (100 on Linux).
const clockTicks = 100

// Sample implements Sampler.
func (p Process) Sample(context.Context) (Sample, error) {
	s := Sample{At: time.Now()}
	for _, pid := range p.PIDs {
		statm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "statm"))
		if err != nil {
			return s, err
		}
		f := strings.Fields(string(statm))
		if len(f) < 2 {
			return s, fmt.Errorf("loadtest: /proc/%d/statm: %q", pid, statm)
		}
		pages, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return s, err
		}
		s.RSSBytes += pages * pageSize
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return s, err
		}
		// The command name may hold spaces: the fields after its closing parenthesis count from 3.
		rest := string(stat)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		sf := strings.Fields(rest)
		if len(sf) < 13 {
			return s, fmt.Errorf("loadtest: /proc/%d/stat: too short", pid)
		}
		ut, _ := strconv.ParseFloat(sf[11], 64)
		st, _ := strconv.ParseFloat(sf[12], 64)
		s.CPUSeconds += (ut + st) / clockTicks
	}
	return s, nil
}

// Scrape samples a server through its GET /metrics (the process collector's
// process_resident_memory_bytes and process_cpu_seconds_total), for a server the tool did not
// start. Several URLs (nodes) are summed.
type Scrape struct {
	Client *http.Client
	URLs   []string
	Token  string
}

// Sample implements Sampler.
func (s Scrape) Sample(ctx context.Context) (Sample, error) {
	out := Sample{At: time.Now()}
	for _, u := range s.URLs {
		m, err := scrapeMetrics(ctx, s.Client, u, s.Token, []string{"process_resident_memory_bytes", "process_cpu_seconds_total"})
		if err != nil {
			return out, err
		}
		out.RSSBytes += int64(m["process_resident_memory_bytes"])
		out.CPUSeconds += m["process_cpu_seconds_total"]
	}
	return out, nil
}

func sampleServer(ctx context.Context, s Sampler) (Sample, bool) {
	if s == nil {
		return Sample{}, false
	}
	v, err := s.Sample(ctx)
	return v, err == nil
}

// ServerStats are the server's resources over the run: memory before the visitors came, with
// every visitor's socket open and idle, and after the messages; the CPU the message phase took.
type ServerStats struct {
	RSSBeforeMB float64 `json:"rss_before_mb"`
	RSSIdleMB   float64 `json:"rss_idle_mb"`
	RSSAfterMB  float64 `json:"rss_after_mb"`
	// RSSPerVisitorKB is (idle − before) / visitors: the memory one idle visitor's socket (with
	// its conversation) holds.
	RSSPerVisitorKB float64 `json:"rss_per_visitor_kb"`
	CPUSeconds      float64 `json:"cpu_s"`
	// CPUPercent is the message phase's CPU time over its wall time (100 = one core).
	CPUPercent float64 `json:"cpu_percent"`
}

func serverStats(before, idle, after Sample, visitors int) *ServerStats {
	if before.At.IsZero() || idle.At.IsZero() || after.At.IsZero() {
		return nil
	}
	mb := func(b int64) float64 { return float64(b) / (1 << 20) }
	st := &ServerStats{RSSBeforeMB: mb(before.RSSBytes), RSSIdleMB: mb(idle.RSSBytes), RSSAfterMB: mb(after.RSSBytes),
		CPUSeconds: after.CPUSeconds - idle.CPUSeconds}
	if visitors > 0 {
		st.RSSPerVisitorKB = float64(idle.RSSBytes-before.RSSBytes) / 1024 / float64(visitors)
	}
	if wall := after.At.Sub(idle.At).Seconds(); wall > 0 {
		st.CPUPercent = 100 * st.CPUSeconds / wall
	}
	return st
}

// serverMetricNames are the server's own figures a run reads from GET /metrics at its end.
var serverMetricNames = []string{
	`parley_chat_messages_total{sender="visitor"}`, `parley_chat_message_ack_seconds_count{sender="visitor"}`,
	`parley_chat_message_delivery_seconds_count{receiver="agent"}`, `parley_chat_sockets_open{kind="visitor"}`,
	`parley_chat_sockets_open{kind="agent"}`, "parley_chat_delivery_queue_length", "parley_chat_commit_batch_size_count",
	"parley_chat_commit_batch_size_sum", "process_resident_memory_bytes", "process_cpu_seconds_total", "go_goroutines",
}

// scrapeMetrics reads the samples named (`name` or `name{labels}` as exposed) from GET /metrics.
func scrapeMetrics(ctx context.Context, client *http.Client, base, token string, names []string) (map[string]float64, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != http.StatusOK {
		return nil, &httpError{status: res.StatusCode, code: errorCode(res.Body)}
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || !want[line[:i]] {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}
