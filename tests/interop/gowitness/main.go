// Command gowitness checks what a PGS hub publishes with Go's golang.org/x/mod/sumdb packages,
// an implementation independent of the hub's (tests/interop/test_go_witness.py runs it).
//
// Usage: gowitness DIR
//
// DIR holds "checkpoint" (the cosigned checkpoint note), "logkey" (the log's verifier key),
// "witnesses" (one witness verifier key, name+hash+base64(0x04 || key), per line) and the
// c2sp.org/tlog-tiles files "tile/<L>/<N>[.p/<W>]" and "tile/entries/<N>[.p/<W>]".
//
// It checks, and exits 1 on the first failure:
//  1. note.Open accepts the checkpoint with the log key alone, the cosignatures left as
//     unverified signatures of unknown keys;
//  2. note.Open with the witnesses as note.Verifiers (c2sp.org/tlog-cosignature v1: key ID over
//     0x04, signature over "cosignature/v1\ntime T\n" + text) verifies each cosignature;
//  3. tlog.TileHashReader, which checks every tile it loads against the checkpoint's tree, gives
//     the checkpoint's root with tlog.TreeHash;
//  4. every entry of the entry bundles hashes (tlog.RecordHash) to its level-0 tile hash, and its
//     record proof (tlog.ProveRecord / tlog.CheckRecord) leads to the root.
//
// It prints "cosigned <name>" for each witness whose cosignature verified, then "ok <size>".
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type cosigner struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (c *cosigner) Name() string    { return c.name }
func (c *cosigner) KeyHash() uint32 { return c.hash }
func (c *cosigner) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	signed := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
	return ed25519.Verify(c.key, signed, sig[8:])
}

func parseCosigner(vkey string) (*cosigner, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("malformed witness key %q", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		return nil, fmt.Errorf("witness key %q is not type 0x04 Ed25519", vkey)
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n\x04"), raw[1:]...))
	hash := binary.BigEndian.Uint32(h[:4])
	if fmt.Sprintf("%08x", hash) != parts[1] {
		return nil, fmt.Errorf("witness key %q has a wrong key ID", vkey)
	}
	return &cosigner{parts[0], hash, ed25519.PublicKey(raw[1:])}, nil
}

// c2spPath turns Go's "tile/8/L/N" into the C2SP "tile/L/N" ("data" tiles are entry bundles).
func c2spPath(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), "tile/8/")
	p = strings.Replace(p, "data/", "entries/", 1)
	return "tile/" + p
}

type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return 8 }
func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := os.ReadFile(filepath.Join(d.dir, c2spPath(t)))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}
func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gowitness: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: gowitness DIR")
	}
	dir := os.Args[1]
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			fail("%v", err)
		}
		return data
	}
	msg := read("checkpoint")
	logKey, err := note.NewVerifier(strings.TrimSpace(string(read("logkey"))))
	if err != nil {
		fail("log key: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(logKey))
	if err != nil {
		fail("note.Open with the log key: %v", err)
	}
	verifiers := []note.Verifier{logKey}
	for _, line := range strings.Split(strings.TrimSpace(string(read("witnesses"))), "\n") {
		c, err := parseCosigner(line)
		if err != nil {
			fail("%v", err)
		}
		verifiers = append(verifiers, c)
	}
	cosigned, err := note.Open(msg, note.VerifierList(verifiers...))
	if err != nil {
		fail("note.Open with the witness keys: %v", err)
	}
	if len(cosigned.Sigs) != 1+len(n.UnverifiedSigs)-len(cosigned.UnverifiedSigs) {
		fail("signature counts do not add up")
	}
	for _, sig := range cosigned.Sigs {
		if sig.Name != logKey.Name() {
			fmt.Printf("cosigned %s\n", sig.Name)
		}
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		fail("the checkpoint text has no size and root")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("size: %v", err)
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("root: %v", err)
	}
	tree := tlog.Tree{N: size, Hash: root}
	hr := tlog.TileHashReader(tree, dirTiles{dir})
	got, err := tlog.TreeHash(size, hr)
	if err != nil || got != root {
		fail("tree hash from the tiles: %v (%v)", got, err)
	}
	for start := int64(0); start < size; start += 256 {
		width := size - start
		if width > 256 {
			width = 256
		}
		t := tlog.Tile{H: 8, L: -1, N: start / 256, W: int(width)}
		data := read(c2spPath(t))
		for i := int64(0); i < width; i++ {
			if len(data) < 2 {
				fail("bundle %s ends early", c2spPath(t))
			}
			length := int(binary.BigEndian.Uint16(data[:2]))
			entry := data[2 : 2+length]
			data = data[2+length:]
			index := start + i
			hashes, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
			if err != nil || hashes[0] != tlog.RecordHash(entry) {
				fail("entry %d does not hash to its tile hash (%v)", index, err)
			}
			proof, err := tlog.ProveRecord(size, index, hr)
			if err != nil {
				fail("record proof %d: %v", index, err)
			}
			if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(entry)); err != nil {
				fail("record proof %d: %v", index, err)
			}
		}
		if len(data) != 0 {
			fail("bundle %s has trailing bytes", c2spPath(t))
		}
	}
	fmt.Printf("ok %d\n", size)
}
