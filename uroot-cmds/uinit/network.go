package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/u-root/u-root/pkg/dhclient"
	"github.com/vishvananda/netlink"
)

// DHCP timing: QEMU's user network answers in well under a second; a port
// with no server must not hold the boot for long, since the model and the
// shell do not need the network.
const (
	dhcpAttempt   = 3 * time.Second  // one DISCOVER/REQUEST exchange
	dhcpRetries   = 2                // exchanges after the first
	dhcpDeadline  = 15 * time.Second // the whole of DHCP, all interfaces
	linkUpTimeout = 5 * time.Second  // for the driver to raise the link
)

// setupNetwork configures the NICs as cfg says and logs each result. Failures
// are logged, never fatal: the model is local.
func setupNetwork(lg *logger, root string, cfg netConfig) {
	if cfg.mode == netNone {
		if cfg.malformed {
			lg.Printf("net: disabled (%s is malformed)", keyNet)
		} else {
			lg.Printf("net: disabled (%s=none)", keyNet)
		}
		return
	}
	nics, err := readNICs(root)
	if err != nil {
		lg.Printf("net: error: listing interfaces: %v", err)
		return
	}
	if len(nics) == 0 {
		lg.Printf("net: no network interfaces (no NIC driver bound?)")
		return
	}
	var links []netlink.Link
	for _, n := range nics {
		l, err := netlink.LinkByName(n.name)
		if err != nil {
			lg.Printf("net: error: %s: %v", n.name, err)
			continue
		}
		links = append(links, l)
	}
	if len(links) == 0 {
		return
	}
	switch cfg.mode {
	case netStatic:
		if err := configureStatic(links[0], cfg); err != nil {
			lg.Printf("net: error: %s: static %s: %v", links[0].Attrs().Name, cfg, err)
			return
		}
		lg.Printf("net: %s: %s (static)", links[0].Attrs().Name, cfg)
	case netDHCP:
		dhcp(lg, links)
	}
}

// configureStatic raises link, gives it the address and the default route.
func configureStatic(link netlink.Link, cfg netConfig) error {
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("link up: %w", err)
	}
	if err := netlink.AddrReplace(link, &netlink.Addr{IPNet: cfg.addr}); err != nil {
		return fmt.Errorf("address: %w", err)
	}
	if cfg.gateway != nil {
		r := &netlink.Route{LinkIndex: link.Attrs().Index, Gw: cfg.gateway}
		if err := netlink.RouteReplace(r); err != nil {
			return fmt.Errorf("default route via %s: %w", cfg.gateway, err)
		}
	}
	return nil
}

// dhcp asks for an IPv4 lease on every link at once and configures each
// link that gets one.
func dhcp(lg *logger, links []netlink.Link) {
	start := time.Now()
	names := make([]string, len(links))
	for i, l := range links {
		names[i] = l.Attrs().Name
	}
	lg.Printf("net: DHCP on %v (timeout %s)", names, dhcpDeadline)
	ctx, cancel := context.WithTimeout(context.Background(), dhcpDeadline)
	defer cancel()
	cfg := dhclient.Config{Timeout: dhcpAttempt, Retries: dhcpRetries, LogLevel: dhclient.LogInfo}
	configured := 0
	for r := range dhclient.SendRequests(ctx, links, true, false, cfg, linkUpTimeout) {
		name := r.Interface.Attrs().Name
		if r.Err != nil {
			if errors.Is(r.Err, context.DeadlineExceeded) {
				lg.Printf("net: %s: DHCP timed out after %s; continuing without it", name, since(start))
			} else {
				lg.Printf("net: %s: DHCP failed after %s: %v; continuing without it", name, since(start), r.Err)
			}
			continue
		}
		if err := r.Lease.Configure(); err != nil {
			lg.Printf("net: error: %s: applying the DHCP lease: %v", name, err)
			continue
		}
		configured++
		lg.Printf("net: %s: %s by DHCP in %s", name, describeLease(r.Lease), since(start))
	}
	if configured == 0 {
		lg.Printf("net: no interface got a DHCP lease (links that never came up are logged above)")
	}
}

// describeLease says what a lease gave: address/prefix, router, server.
func describeLease(l dhclient.Lease) string {
	msg, _ := l.Message()
	if msg == nil {
		return "a lease"
	}
	mask := net.IPMask(msg.SubnetMask())
	ones, bits := mask.Size()
	if bits == 0 {
		ones = 32
	}
	s := fmt.Sprintf("%s/%d", msg.YourIPAddr, ones)
	if r := msg.Router(); len(r) > 0 {
		s += fmt.Sprintf(", router %s", r[0])
	}
	if id := msg.ServerIdentifier(); id != nil {
		s += fmt.Sprintf(", server %s", id)
	}
	return s
}

// since renders the time elapsed since t to the millisecond.
func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
