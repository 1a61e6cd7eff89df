package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parleyhq/parley/app/config"
	"github.com/parleyhq/parley/app/loadtest"
)

// installation is what the tool started for a run: the nodes (and nginx in front of several),
// a fresh database, the accounts and the site.
type installation struct {
	*loadtest.Installation
	url         string
	token       string
	keyProvider string
	dataDir     string
	keep        bool
	db          *loadtest.Database
	nodes       []*loadtest.Server
	nginx       *process
	stopped     bool
}

func (in *installation) pids() []int {
	out := make([]int, 0, len(in.nodes))
	for _, n := range in.nodes {
		out = append(out, n.PID)
	}
	return out
}

// siteOrigin is the load site's origin: a customer's site (the visitors' sockets send it).
const siteOrigin = "https://shop.load.example"

func startInstallation(ctx context.Context, o *options, stderr io.Writer) (*installation, error) {
	dir, err := filepath.Abs(filepath.Join(o.out, o.name+"-data"))
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	in := &installation{token: "load-" + randomHex(20), dataDir: dir, keep: o.keep, keyProvider: "local-dev"}
	logf, err := os.Create(filepath.Join(dir, "server.log")) // #nosec G304 -- under the tool's own output directory
	if err != nil {
		return nil, err
	}
	var env []string
	if o.vault {
		env = append(env, "VAULT_ADDR="+os.Getenv("VAULT_ADDR"), "VAULT_TOKEN="+os.Getenv("VAULT_TOKEN"))
		in.keyProvider = "vault"
	}
	if o.visitorPerMinute > 0 {
		env = append(env, fmt.Sprintf("PARLEY_VISITOR_MESSAGES_PER_MINUTE=%d", o.visitorPerMinute),
			fmt.Sprintf("PARLEY_ADDRESS_MESSAGES_PER_MINUTE=%d", max(config.DefaultAddressMessagesPerMinute, o.visitorPerMinute)))
	}
	if o.visitorBurst > 0 {
		env = append(env, fmt.Sprintf("PARLEY_VISITOR_MESSAGE_BURST=%d", o.visitorBurst))
	}
	var dbURL, migrateURL string
	if o.db == "postgres" {
		if in.db, err = loadtest.NewDatabase(ctx, o.pgAdmin); err != nil {
			return in, err
		}
		dbURL, migrateURL = in.db.AppURL, in.db.OwnerURL
	}
	var lbAddr string
	if o.nodes > 1 {
		if lbAddr, err = loadtest.FreeAddr(); err != nil {
			return in, err
		}
	}
	for i := range o.nodes {
		sc := loadtest.ServerConfig{Bin: o.bin, DataDir: filepath.Join(dir, "node"), DatabaseURL: dbURL, MetricsToken: in.token,
			NodeID: fmt.Sprintf("node-%d", i+1), Env: env, Log: logf}
		if i == 0 {
			sc.MigrateURL = migrateURL
		}
		if lbAddr != "" {
			sc.PublicURL = "http://" + lbAddr
		}
		fmt.Fprintf(stderr, "starting node %d of %d (%s)\n", i+1, o.nodes, o.db)
		s, err := loadtest.StartServer(ctx, sc)
		if err != nil {
			return in, fmt.Errorf("%w (log: %s)", err, logf.Name())
		}
		in.nodes = append(in.nodes, s)
	}
	in.url = in.nodes[0].URL
	if lbAddr != "" {
		if in.nginx, err = startNginx(ctx, o.nginx, dir, lbAddr, in.nodes, stderr); err != nil {
			return in, err
		}
		in.url = "http://" + lbAddr
	}
	if in.Installation, err = loadtest.Provision(ctx, in.nodes[0], o.agents, o.stormAccounts, siteOrigin); err != nil {
		return in, err
	}
	return in, nil
}

// stop ends nginx and the nodes, drops the database and removes the data directory (unless
// -keep).
func (in *installation) stop() {
	if in.stopped {
		return
	}
	in.stopped = true
	if in.nginx != nil {
		in.nginx.stop()
	}
	for _, n := range in.nodes {
		n.Stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if in.db != nil && !in.keep {
		_ = in.db.Drop(ctx)
	}
	if !in.keep {
		_ = os.RemoveAll(filepath.Join(in.dataDir, "node"))
	}
}

var intactRe = regexp.MustCompile(`intact — (\d+) events`)

// auditEvents waits until the audit outbox is sealed, then counts the events of every chain
// with `parley audit verify`, which also checks them; a damaged chain is an error.
func (in *installation) auditEvents(ctx context.Context) (int64, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		m, err := scrape(ctx, in.nodes[0].URL, in.token, "parley_audit_outbox_pending")
		if err == nil && m == 0 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	out, err := in.nodes[0].Command(ctx, "", "audit", "verify")
	if err != nil {
		return 0, fmt.Errorf("parley audit verify: %w: %s", err, out)
	}
	var n int64
	for _, m := range intactRe.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseInt(m[1], 10, 64)
		n += v
	}
	return n, nil
}

// scrape reads one unlabelled sample from GET /metrics.
func scrape(ctx context.Context, base, token, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, errors.New(name + " not published")
}

// process is a child process the tool started (the baseline, nginx).
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startProcess(bin string, args, env []string, out io.Writer) (*process, error) {
	cmd := exec.Command(bin, args...) // #nosec G204 -- this binary, or the operator's nginx
	cmd.Stdout, cmd.Stderr = out, out
	if env != nil {
		cmd.Env = env
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// stop ends the process (SIGTERM, then SIGKILL) and waits for it.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// nginxConf is a load balancer for the nodes: WebSocket upgrades passed through, the client's
// X-Forwarded-For extended (the nodes trust 127.0.0.1), least connections.
const nginxConf = `# Generated by parley-load for one run.
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log warn;
events { worker_connections 30000; }
worker_rlimit_nofile 60000;
http {
  access_log off;
  client_body_temp_path %[1]s/tmp-body;
  proxy_temp_path %[1]s/tmp-proxy;
  fastcgi_temp_path %[1]s/tmp-fastcgi;
  uwsgi_temp_path %[1]s/tmp-uwsgi;
  scgi_temp_path %[1]s/tmp-scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream parley {
    least_conn;
%[2]s    keepalive 64;
  }
  server {
    listen %[3]s;
    location / {
      proxy_pass http://parley;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 120s;
    }
  }
}
`

// startNginx writes the configuration into dir and runs nginx in the foreground of its own
// process group, stopped with the run.
func startNginx(ctx context.Context, bin, dir, addr string, nodes []*loadtest.Server, stderr io.Writer) (*process, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("nginx not found (%v): apt-get install -y nginx", err)
	}
	var ups strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&ups, "    server %s;\n", strings.TrimPrefix(n.URL, "http://"))
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxConf, dir, ups.String(), addr)), 0o600); err != nil {
		return nil, err
	}
	p, err := startProcess(path, []string{"-p", dir, "-c", conf, "-g", "daemon off;"}, nil, stderr)
	if err != nil {
		return nil, err
	}
	if err := waitTCP(ctx, addr, 20*time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("nginx: %w (see %s/nginx-error.log)", err, dir)
	}
	return p, nil
}
