package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/digest"
)

// TestServerConfigNumbers checks the numeric keys of sansip serve: values
// are taken, and a bad one is an error naming its key.
func TestServerConfigNumbers(t *testing.T) {
	sio := stdio{in: strings.NewReader(""), out: io.Discard, err: io.Discard}
	base := map[string]string{"udp": "127.0.0.1:0", "domain": "localhost"}
	with := func(k, v string) map[string]string {
		st := map[string]string{k: v}
		for bk, bv := range base {
			st[bk] = bv
		}
		return st
	}
	cfg, err := serverConfig(with("procs", "1"), sio)
	if err != nil || cfg.Procs != 1 {
		t.Fatalf("procs = 1: %+v, %v", cfg.Procs, err)
	}
	if cfg, err = serverConfig(with("shards", "3"), sio); err != nil || cfg.Shards != 3 {
		t.Fatalf("shards = 3: %d, %v", cfg.Shards, err)
	}
	if cfg, err = serverConfig(with("udp-linger", "2ms"), sio); err != nil || cfg.UDPLinger != 2*time.Millisecond {
		t.Fatalf("udp-linger = 2ms: %v, %v", cfg.UDPLinger, err)
	}
	if cfg, err = serverConfig(with("udp-portable-io", "true"), sio); err != nil || !cfg.UDPPortableIO {
		t.Fatalf("udp-portable-io = true: %v, %v", cfg.UDPPortableIO, err)
	}
	for _, bad := range [][2]string{{"procs", "-1"}, {"procs", "all"}, {"shards", "x"}, {"gc-percent", "lots"}, {"udp-linger", "5"}, {"drain", "soon"}} {
		_, err := serverConfig(with(bad[0], bad[1]), sio)
		if err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("%s = %s: error %v, want one naming the key", bad[0], bad[1], err)
		}
	}
}

// The embedded configuration challenges with what digest.Server offers by
// default, MD5 alone: deployed MD5-only clients (sipsak 0.9.8.1, baresip
// 1.0.0) fail on any other challenge (see digest.Server.Algorithms;
// interop.TestBaresipRegister and TestSipsak check them for real).
func TestDefaultDigest(t *testing.T) {
	st, err := parseConf(defaultConf)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serverConfig(st, stdio{in: strings.NewReader(""), out: io.Discard, err: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Algorithms, digest.DefaultAlgorithms) {
		t.Errorf("default.conf offers %v, digest.Server by default %v", cfg.Algorithms, digest.DefaultAlgorithms)
	}
}
