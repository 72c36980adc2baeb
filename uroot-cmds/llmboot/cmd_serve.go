package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

const serveSynopsis = "serve-model [--addr :8080] PATH..."

// cmdServe serves model files over HTTP with Range support (net/http's
// ServeContent), for users who have no web server at hand: one machine
// serves, the firmware on another streams with `llmboot run http://...`.
func cmdServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve-model", serveSynopsis, stderr)
	addr := fs.String("addr", ":8080", "listen address")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usagef("missing PATH")
	}
	files := map[string]string{}
	for _, p := range pos {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("serve-model: %w", err)
		}
		if st.IsDir() {
			return fmt.Errorf("serve-model: %s is a directory; name model files", p)
		}
		name := filepath.Base(p)
		if prev, dup := files[name]; dup {
			return fmt.Errorf("serve-model: %s and %s would both be served as /%s", prev, p, name)
		}
		files[name] = p
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve-model: %w", err)
	}
	for name, p := range files {
		fmt.Fprintf(stdout, "serving %s as http://%s/%s\n", p, ln.Addr(), name)
	}
	srv := &http.Server{Handler: modelHandler(files), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return fmt.Errorf("serve-model: %w", err)
	}
	return nil
}

// modelHandler serves each named file at /NAME with Range support.
func modelHandler(files map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := files[r.URL.Path[1:]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		f, err := os.Open(p)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.ServeContent(w, r, filepath.Base(p), st.ModTime(), f)
	})
}
