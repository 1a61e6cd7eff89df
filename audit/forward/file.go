package forward

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/parleyhq/parley/audit"
)

// FileSink appends events and checkpoints as JSON lines to a file (mode 0600), syncing after
// every batch. Each line is {"type":"audit_event","event":{…}} or
// {"type":"audit_checkpoint","checkpoint":{…}}, in the same encoding as export bundles. A log
// shipper can follow the file; rotation by rename is safe because the sink reopens the path
// when the file it holds has been moved away.
type FileSink struct {
	name string
	path string
	mu   sync.Mutex
	f    *os.File
}

var _ Sink = (*FileSink)(nil)

// NewFileSink returns a sink writing to path; name defaults to "file:" + path.
func NewFileSink(name, path string) (*FileSink, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: file sink needs a path", ErrConfig)
	}
	if name == "" {
		name = "file:" + path
	}
	return &FileSink{name: name, path: path}, nil
}

// Name implements Sink.
func (s *FileSink) Name() string { return s.name }

type fileLine struct {
	Type       string            `json:"type"`
	Event      *audit.Entry      `json:"event,omitempty"`
	Checkpoint *audit.Checkpoint `json:"checkpoint,omitempty"`
}

// Send implements Sink.
func (s *FileSink) Send(_ context.Context, b Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.open(); err != nil {
		return err
	}
	w := bufio.NewWriter(s.f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range b.Entries {
		if err := enc.Encode(fileLine{Type: "audit_event", Event: &b.Entries[i]}); err != nil {
			return err
		}
	}
	for i := range b.Checkpoints {
		if err := enc.Encode(fileLine{Type: "audit_checkpoint", Checkpoint: &b.Checkpoints[i]}); err != nil {
			return err
		}
	}
	if err := errors.Join(w.Flush(), s.f.Sync()); err != nil {
		_ = s.f.Close()
		s.f = nil
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return nil
}

// open opens the file, or reopens it when it was renamed or removed (log rotation).
func (s *FileSink) open() error {
	if s.f != nil {
		held, err1 := s.f.Stat()
		onDisk, err2 := os.Stat(s.path)
		if err1 == nil && err2 == nil && os.SameFile(held, onDisk) {
			return nil
		}
		_ = s.f.Close()
		s.f = nil
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600) // #nosec G304 -- the operator configures the path
	if err != nil {
		return fmt.Errorf("open %s: %w", s.path, err)
	}
	s.f = f
	return nil
}

// Close implements Sink.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
