package main

import (
	"fmt"
	"io"

	"github.com/llmboot/llmboot/pkg/loader"
	"github.com/llmboot/llmboot/pkg/nvmeio"
)

func cmdDevices(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("devices", "devices [--sys /sys]", stderr)
	sys := fs.String("sys", "/sys", "sysfs root")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := positional(pos); err != nil {
		return err
	}
	ctrls, err := nvmeio.Devices(*sys)
	if err != nil {
		return fmt.Errorf("devices: %w", err)
	}
	if len(ctrls) == 0 {
		fmt.Fprintln(stdout, "no NVMe controllers")
		return nil
	}
	for _, c := range ctrls {
		fmt.Fprintf(stdout, "%s: %s (serial %s, firmware %s)\n", c.Name, c.Model, c.Serial, c.Firmware)
		for _, ns := range c.Namespaces {
			fmt.Fprintf(stdout, "  %s: %s, %d-byte blocks\n", ns.Path, loader.FormatBytes(ns.Size), ns.LogicalBlockSize)
		}
	}
	return nil
}
