package loader

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/model"
)

// faultyServer serves data with http.ServeContent (real Range support) and
// injects one kind of fault into the first `faults` Range requests for more
// than one byte.
func faultyServer(t *testing.T, data []byte, fault string, faults int64) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rng := r.Header.Get("Range")
		probe := rng == "bytes=0-0"
		if fault == "norange" {
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.WriteHeader(http.StatusOK)
			w.Write(data)
			return
		}
		if fault == "404" {
			http.NotFound(w, r)
			return
		}
		if probe || rng == "" || hits.Add(1) > faults {
			http.ServeContent(w, r, "model.gguf", time.Time{}, bytes.NewReader(data))
			return
		}
		var first, last int64
		fmt.Sscanf(rng, "bytes=%d-%d", &first, &last)
		body := data[first : last+1]
		switch fault {
		case "cut", "stall":
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(data)))
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			if fault == "stall" {
				time.Sleep(400 * time.Millisecond)
				return
			}
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case "wrongrange":
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first+1, last+1, len(data)))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body)
		case "503":
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestHTTPSourceFaults(t *testing.T) {
	path := shareddata.Path(t, "models/gguf/stories260K.gguf")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Open(path, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	res, _ := Memory(m)
	want := generate(t, m, res, 12)

	opts := HTTPOptions{Chunk: 64 << 10, Parallel: 3, Retries: 3, Backoff: time.Millisecond, StallTimeout: 150 * time.Millisecond}
	for _, c := range []struct {
		fault   string
		faults  int64
		wantErr string
	}{
		{"none", 0, ""},
		{"cut", 5, ""},
		{"stall", 2, ""},
		{"wrongrange", 2, ""},
		{"503", 2, ""},
		{"cut", 1 << 40, "after"}, // every request cut: gives up, says where
		{"norange", 0, "server ignores Range requests (answered 200 OK with the whole file"},
		{"404", 0, "404 Not Found"},
	} {
		t.Run(fmt.Sprintf("%s/%d", c.fault, c.faults), func(t *testing.T) {
			srv, _ := faultyServer(t, data, c.fault, c.faults)
			var logged atomic.Int64
			o := opts
			o.Log = func(string) { logged.Add(1) }
			src, err := OpenHTTP(srv.URL+"/model.gguf", o)
			if err == nil {
				defer src.Close()
				var hdr *model.Model
				if hdr, err = model.OpenAt(src.Name(), src, src.Size(), model.Options{}); err == nil {
					var s *Streamer
					if s, err = Stream(hdr, src, StreamOptions{Slots: 2}); err == nil {
						defer s.Close()
						got := generate(t, hdr, s, 12)
						for i := range want {
							if got[i] != want[i] {
								t.Fatalf("token %d: %d over HTTP, %d from memory", i, got[i], want[i])
							}
						}
					}
				}
			}
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("fault %s: %v", c.fault, err)
				}
				if c.faults > 0 && logged.Load() == 0 {
					t.Errorf("fault %s: recovered without logging a retry", c.fault)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("fault %s: error %v, want one line containing %q", c.fault, err, c.wantErr)
			}
			if c.fault == "norange" && !errors.Is(err, ErrNoRange) {
				t.Errorf("not ErrNoRange: %v", err)
			}
		})
	}
}

func TestParseContentRange(t *testing.T) {
	for _, c := range []struct {
		h         string
		a, b, tot int64
		ok        bool
	}{
		{"bytes 0-0/10", 0, 0, 10, true},
		{"bytes 5-9/10", 5, 9, 10, true},
		{"bytes 5-10/10", 0, 0, 0, false},
		{"bytes 9-5/10", 0, 0, 0, false},
		{"bytes */10", 0, 0, 0, false},
		{"items 0-1/2", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	} {
		a, b, tot, err := parseContentRange(c.h)
		if (err == nil) != c.ok || (c.ok && (a != c.a || b != c.b || tot != c.tot)) {
			t.Errorf("%q: %d %d %d %v", c.h, a, b, tot, err)
		}
	}
}
