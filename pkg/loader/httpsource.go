package loader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HTTPOptions tune an HTTPSource.
type HTTPOptions struct {
	Client       *http.Client  // default: keep-alive transport sized for Parallel
	Parallel     int           // requests in flight for one large read (default 4)
	Chunk        int64         // bytes per request (default 8 MiB)
	Retries      int           // attempts per chunk after the first (default 5)
	Backoff      time.Duration // first retry delay, doubled each time (default 200 ms)
	StallTimeout time.Duration // no byte for this long: abort and retry (default 30 s)
	Log          func(string)  // retries are logged here when set
}

// HTTPSource reads a file from a web server by Range requests: the network
// strategy. Every answer is checked (206, Content-Range, length); a cut or
// stalled transfer is resumed where it stopped, with backoff.
type HTTPSource struct {
	url  string
	size int64
	opts HTTPOptions
}

// ErrNoRange is returned when the server answers a Range request with the
// whole file: streaming from it would download everything every time.
var ErrNoRange = errors.New("server ignores Range requests")

// OpenHTTP asks the server for the first byte of url to learn the file's
// size and that it honours Range requests.
func OpenHTTP(url string, opts HTTPOptions) (*HTTPSource, error) {
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if opts.Chunk <= 0 {
		opts.Chunk = 8 << 20
	}
	if opts.Retries <= 0 {
		opts.Retries = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 200 * time.Millisecond
	}
	if opts.StallTimeout <= 0 {
		opts.StallTimeout = 30 * time.Second
	}
	if opts.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = opts.Parallel
		tr.ResponseHeaderTimeout = opts.StallTimeout
		tr.DisableCompression = true // a Range of a gzip body is not a Range of the file
		opts.Client = &http.Client{Transport: tr}
	}
	s := &HTTPSource{url: url, opts: opts}
	var err error
	for attempt := 0; ; attempt++ {
		if err = s.probe(); err == nil || errors.Is(err, ErrNoRange) || attempt >= opts.Retries || !retryable(err) {
			break
		}
		s.logf("%s: %v; retrying", url, err)
		time.Sleep(opts.Backoff << attempt)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return s, nil
}

// statusError is an HTTP answer other than the one asked for.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

// retryable: server errors, transport failures and garbled answers (a
// proxy's bad Content-Range) are worth another try; a 4xx or a server that
// ignores Range is not.
func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.code == 0 || se.code >= 500 || se.code == http.StatusTooManyRequests
	}
	return !errors.Is(err, ErrNoRange)
}

func (s *HTTPSource) probe() error {
	req, err := http.NewRequest(http.MethodGet, s.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Range", "bytes=0-0")
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK:
		return fmt.Errorf("%w (answered 200 OK with the whole file, %s): serve it with nginx, `llmboot serve-model` or another server that supports Range", ErrNoRange, lengthText(resp.ContentLength))
	default:
		return &statusError{resp.StatusCode, fmt.Sprintf("HTTP %s", resp.Status)}
	}
	first, last, total, err := parseContentRange(resp.Header.Get("Content-Range"))
	if err != nil {
		return err
	}
	if first != 0 || last != 0 || total <= 0 {
		return fmt.Errorf("asked for bytes 0-0, server answered Content-Range %q", resp.Header.Get("Content-Range"))
	}
	s.size = total
	return nil
}

func lengthText(n int64) string {
	if n < 0 {
		return "length unknown"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// parseContentRange parses "bytes FIRST-LAST/TOTAL".
func parseContentRange(h string) (first, last, total int64, err error) {
	bad := fmt.Errorf("malformed Content-Range %q", h)
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, 0, 0, bad
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, 0, bad
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, 0, bad
	}
	if first, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, 0, bad
	}
	if last, err = strconv.ParseInt(b, 10, 64); err != nil {
		return 0, 0, 0, bad
	}
	if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
		return 0, 0, 0, bad
	}
	if first < 0 || last < first || last >= total {
		return 0, 0, 0, bad
	}
	return first, last, total, nil
}

// Size is the file's length.
func (s *HTTPSource) Size() int64 { return s.size }

// Name is the URL.
func (s *HTTPSource) Name() string { return s.url }

// Close releases idle connections.
func (s *HTTPSource) Close() error {
	s.opts.Client.CloseIdleConnections()
	return nil
}

func (s *HTTPSource) logf(format string, a ...any) {
	if s.opts.Log != nil {
		s.opts.Log(fmt.Sprintf(format, a...))
	}
}

// ReadAt reads len(p) bytes at off, in Chunk-sized requests, Parallel at a
// time. Like io.ReaderAt it returns io.EOF when p runs past the end.
func (s *HTTPSource) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= s.size {
		return 0, io.EOF
	}
	want := p
	if off+int64(len(p)) > s.size {
		want = p[:s.size-off]
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     int64
	)
	chunks := (int64(len(want)) + s.opts.Chunk - 1) / s.opts.Chunk
	for w := 0; w < min(s.opts.Parallel, int(chunks)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				c := next
				next++
				stop := firstErr != nil
				mu.Unlock()
				if stop || c >= chunks {
					return
				}
				lo := c * s.opts.Chunk
				hi := min(lo+s.opts.Chunk, int64(len(want)))
				if err := s.fetch(want[lo:hi], off+lo); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	if len(want) < len(p) {
		return len(want), io.EOF
	}
	return len(p), nil
}

// fetch fills p with the bytes at off, resuming after cuts and stalls.
func (s *HTTPSource) fetch(p []byte, off int64) error {
	done := 0
	var err error
	for attempt := 0; attempt <= s.opts.Retries; attempt++ {
		if attempt > 0 {
			s.logf("%s: bytes %d-%d: %v; retry %d of %d from byte %d", s.url, off, off+int64(len(p))-1, err, attempt, s.opts.Retries, off+int64(done))
			time.Sleep(s.opts.Backoff << (attempt - 1))
		}
		var n int
		n, err = s.get(p[done:], off+int64(done))
		done += n
		if err == nil {
			return nil
		}
		if n > 0 {
			attempt = 0 // progress: a flaky link gets its retries back
		}
		if !retryable(err) {
			break
		}
	}
	return fmt.Errorf("%s: bytes %d-%d: %w", s.url, off, off+int64(len(p))-1, err)
}

// get makes one Range request for p at off and returns how many bytes of p
// it filled before any error.
func (s *HTTPSource) get(p []byte, off int64) (int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return 0, err
	}
	last := off + int64(len(p)) - 1
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, last))
	// The stall watchdog: reset on every read that makes progress.
	stalled := false
	var stallMu sync.Mutex
	timer := time.AfterFunc(s.opts.StallTimeout, func() {
		stallMu.Lock()
		stalled = true
		stallMu.Unlock()
		cancel()
	})
	defer timer.Stop()
	wrap := func(err error) error {
		stallMu.Lock()
		defer stallMu.Unlock()
		if stalled {
			return fmt.Errorf("stalled: no data for %s", s.opts.StallTimeout)
		}
		return err
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return 0, wrap(err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK:
		return 0, fmt.Errorf("%w (answered 200 OK to a Range request)", ErrNoRange)
	default:
		return 0, &statusError{resp.StatusCode, fmt.Sprintf("HTTP %s", resp.Status)}
	}
	first, end, total, err := parseContentRange(resp.Header.Get("Content-Range"))
	if err != nil {
		return 0, &statusError{0, err.Error()}
	}
	if first != off || end != last || total != s.size {
		return 0, &statusError{0, fmt.Sprintf("asked for bytes %d-%d/%d, server answered Content-Range %q", off, last, s.size, resp.Header.Get("Content-Range"))}
	}
	if resp.ContentLength >= 0 && resp.ContentLength != int64(len(p)) {
		return 0, &statusError{0, fmt.Sprintf("asked for %d bytes, Content-Length is %d", len(p), resp.ContentLength)}
	}
	n := 0
	for n < len(p) {
		m, err := resp.Body.Read(p[n:])
		n += m
		if m > 0 {
			timer.Reset(s.opts.StallTimeout)
		}
		if err != nil {
			if err == io.EOF && n < len(p) {
				err = io.ErrUnexpectedEOF
			}
			if n == len(p) {
				break
			}
			return n, wrap(fmt.Errorf("after %d of %d bytes: %w", n, len(p), err))
		}
	}
	return n, nil
}
