package loader

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Progress reports bytes loaded on a writer (stderr): one line updated in
// place on a terminal, plain lines every few seconds on a serial console or
// a pipe, where carriage returns would pile up.
type Progress struct {
	w        io.Writer
	what     string
	tty      bool
	start    time.Time
	mu       sync.Mutex
	last     time.Time
	lastFrac float64
	finished bool
}

// NewProgress reports on w (nil: report nothing) about what ("loading x").
func NewProgress(w io.Writer, what string) *Progress {
	p := &Progress{w: w, what: what, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		p.tty = err == nil
	}
	return p
}

// Update reports done of total bytes.
func (p *Progress) Update(done, total int64) {
	if p == nil || p.w == nil || total <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	now := time.Now()
	frac := float64(done) / float64(total)
	if p.tty {
		if now.Sub(p.last) < 100*time.Millisecond && done < total {
			return
		}
	} else if done < total && now.Sub(p.last) < 2*time.Second && frac-p.lastFrac < 0.25 {
		return
	}
	p.last, p.lastFrac = now, frac
	el := now.Sub(p.start).Seconds()
	rate := float64(done) / max(el, 1e-6)
	eta := "-"
	if rate > 0 && done < total {
		eta = (time.Duration(float64(total-done)/rate) * time.Second / time.Second).Round(time.Second).String()
	}
	line := fmt.Sprintf("llmboot: %s: %s / %s (%3.0f%%), %s/s, ETA %s", p.what, FormatBytes(done), FormatBytes(total), 100*frac, FormatBytes(int64(rate)), eta)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		if done >= total {
			fmt.Fprintln(p.w)
		}
	} else {
		fmt.Fprintln(p.w, line)
	}
	if done >= total {
		p.finished = true
	}
}
