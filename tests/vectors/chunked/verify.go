// An independent decrypter of pgs-chunked-v1, written from docs/protocol.md section 8 with
// Go's standard library only (crypto/aes, crypto/cipher, crypto/hmac; HKDF as in RFC 5869).
//
// Usage: go run verify.go vectors.json
// For each case it decrypts the ciphertext (given in full, or re-encrypted here from the key,
// salt and plaintext rule when only its hash is given), checks sizes and hashes, and checks
// that a wrong key and a flipped byte are refused. Prints "ok N" or exits non-zero.
package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

const (
	magic     = "pgsatt1\n"
	chunkSize = 65536
	tagSize   = 16
	info      = "pgs/1 attachment chunks"
)

type vectorCase struct {
	Name            string `json:"name"`
	Key             string `json:"key"`
	Salt            string `json:"salt"`
	PlaintextSize   int    `json:"plaintext_size"`
	PlaintextSHA256 string `json:"plaintext_sha256"`
	Header          string `json:"header"`
	CiphertextSize  int    `json:"ciphertext_size"`
	CiphertextSHA   string `json:"ciphertext_sha256"`
	Ciphertext      string `json:"ciphertext"`
}

func hkdf(ikm, salt, info []byte, length int) []byte {
	ext := hmac.New(sha256.New, salt)
	ext.Write(ikm)
	prk := ext.Sum(nil)
	var out, prev []byte
	for i := byte(1); len(out) < length; i++ {
		m := hmac.New(sha256.New, prk)
		m.Write(prev)
		m.Write(info)
		m.Write([]byte{i})
		prev = m.Sum(nil)
		out = append(out, prev...)
	}
	return out[:length]
}

func nonce(i uint64, last bool) []byte {
	n := make([]byte, 12)
	for b := 0; b < 8; b++ { // bytes 3..10 hold the low 64 bits of the 88-bit counter
		n[10-b] = byte(i >> (8 * b))
	}
	if last {
		n[11] = 1
	}
	return n
}

func schedule(key, salt []byte) (cipher.AEAD, []byte) {
	okm := hkdf(key, salt, []byte(info), 64)
	block, err := aes.NewCipher(okm[:32])
	if err != nil {
		panic(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return gcm, okm[32:]
}

func encrypt(key, salt, pt []byte) []byte {
	gcm, commitment := schedule(key, salt)
	header := append(append([]byte(magic), salt...), commitment...)
	out := append([]byte{}, header...)
	n := (len(pt) + chunkSize - 1) / chunkSize
	if n == 0 {
		n = 1
	}
	for i := 0; i < n; i++ {
		end := (i + 1) * chunkSize
		if end > len(pt) {
			end = len(pt)
		}
		out = gcm.Seal(out, nonce(uint64(i), i == n-1), pt[i*chunkSize:end], header)
	}
	return out
}

func decrypt(key, ct []byte) ([]byte, error) {
	if len(ct) < 56 || string(ct[:8]) != magic {
		return nil, errors.New("bad header")
	}
	header := ct[:56]
	gcm, commitment := schedule(key, ct[8:24])
	if !hmac.Equal(commitment, ct[24:56]) {
		return nil, errors.New("commitment mismatch")
	}
	body := ct[56:]
	var pt []byte
	for i := uint64(0); ; i++ {
		size := chunkSize + tagSize
		last := len(body) <= size
		if last {
			size = len(body)
		}
		chunk, err := gcm.Open(nil, nonce(i, last), body[:size], header)
		if err != nil {
			return nil, fmt.Errorf("chunk %d: %w", i, err)
		}
		if last && len(chunk) == 0 && i > 0 {
			return nil, errors.New("empty last chunk")
		}
		pt = append(pt, chunk...)
		body = body[size:]
		if last {
			return pt, nil
		}
	}
}

func hexOf(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func main() {
	raw := must(os.ReadFile(os.Args[1]))
	var doc struct {
		Cases []vectorCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		panic(err)
	}
	for _, c := range doc.Cases {
		key := must(hex.DecodeString(c.Key))
		salt := must(hex.DecodeString(c.Salt))
		want := make([]byte, c.PlaintextSize)
		for i := range want {
			want[i] = byte(i % 251)
		}
		ct := encrypt(key, salt, want)
		if c.Ciphertext != "" && c.Ciphertext != hex.EncodeToString(ct) {
			fail(c.Name, "ciphertext differs")
		}
		if len(ct) != c.CiphertextSize || hexOf(ct) != c.CiphertextSHA || hex.EncodeToString(ct[:56]) != c.Header {
			fail(c.Name, "ciphertext size, hash or header differs")
		}
		pt, err := decrypt(key, ct)
		if err != nil || !bytes.Equal(pt, want) || hexOf(pt) != c.PlaintextSHA256 {
			fail(c.Name, fmt.Sprint("does not decrypt: ", err))
		}
		wrong := append([]byte{}, key...)
		wrong[0] ^= 1
		if _, err := decrypt(wrong, ct); err == nil {
			fail(c.Name, "a wrong key was accepted")
		}
		for _, at := range []int{60, len(ct) - 1} {
			bad := append([]byte{}, ct...)
			bad[at] ^= 0x80
			if _, err := decrypt(key, bad); err == nil {
				fail(c.Name, "a flipped byte was accepted")
			}
		}
	}
	fmt.Println("ok", len(doc.Cases))
}

func fail(name, why string) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", name, why)
	os.Exit(1)
}
