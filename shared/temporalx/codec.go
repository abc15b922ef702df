package temporalx

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Payload metadata written by Codec.
const (
	// MetadataEncodingEncrypted marks a sealed payload; its data is
	// nonce || AES-GCM(proto-encoded original payload).
	MetadataEncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that sealed the payload, so a key can be
	// rotated while old histories stay readable.
	MetadataKeyID = "encryption-key-id"
)

// Codec is a converter.PayloadCodec that seals every payload with AES-GCM
// under the active key and opens payloads sealed under any known key.
// Payloads that are not sealed pass through on decode, so histories written
// before encryption was turned on stay readable.
type Codec struct {
	activeID string
	keys     map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// CodecKey is one named 256-bit key.
type CodecKey struct {
	ID  string
	Key []byte
}

// NewCodec builds a codec; keys[0] is the active (encrypting) key, every key
// decrypts.
func NewCodec(keys []CodecKey) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("codec: no keys")
	}
	c := &Codec{activeID: keys[0].ID, keys: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		if k.ID == "" || strings.ContainsAny(k.ID, " \t") {
			return nil, fmt.Errorf("codec: key ID %q is empty or has blanks", k.ID)
		}
		if len(k.Key) != 32 {
			return nil, fmt.Errorf("codec: key %s is %d bytes, want 32 (AES-256)", k.ID, len(k.Key))
		}
		if _, dup := c.keys[k.ID]; dup {
			return nil, fmt.Errorf("codec: key ID %s appears twice", k.ID)
		}
		block, err := aes.NewCipher(k.Key)
		if err != nil {
			return nil, fmt.Errorf("codec: key %s: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: key %s: %w", k.ID, err)
		}
		c.keys[k.ID] = aead
	}
	return c, nil
}

// ParseCodecKeys reads a keys file: one key per line, `<key-id>
// <base64 of 32 random bytes>`, `#` starts a comment. The first key is the
// active one; rotate by adding a new key as the first line and keeping the
// old ones below it for as long as histories they sealed are kept.
func ParseCodecKeys(data []byte) ([]CodecKey, error) {
	var keys []CodecKey
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("line %d: want `<key-id> <base64 key>`, got %d fields", n, len(fields))
		}
		key, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: key %s is not base64: %w", n, fields[0], err)
		}
		keys = append(keys, CodecKey{ID: fields[0], Key: key})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return keys, nil
}

// LoadCodec reads the keys file at path and builds the codec.
func LoadCodec(path string) (*Codec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("codec keys: %w", err)
	}
	keys, err := ParseCodecKeys(data)
	if err != nil {
		return nil, fmt.Errorf("codec keys %s: %w", path, err)
	}
	c, err := NewCodec(keys)
	if err != nil {
		return nil, fmt.Errorf("codec keys %s: %w", path, err)
	}
	return c, nil
}

// ActiveKeyID is the ID of the key new payloads are sealed with.
func (c *Codec) ActiveKeyID() string { return c.activeID }

// Encode seals each payload under the active key. The key ID is also the
// additional data, so a payload relabelled with another key ID fails.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.keys[c.activeID]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: marshal payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(MetadataEncodingEncrypted),
				MetadataKeyID:              []byte(c.activeID),
			},
			Data: aead.Seal(nonce, nonce, plain, []byte(c.activeID)),
		}
	}
	return out, nil
}

// Decode opens sealed payloads and passes the others through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != MetadataEncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.keys[id]
		if !ok {
			return nil, fmt.Errorf("codec: payload sealed with unknown key %q", id)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize() {
			return nil, fmt.Errorf("codec: sealed payload is %d bytes, shorter than a nonce", len(data))
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("codec: open payload sealed with key %s: %w", id, err)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return nil, fmt.Errorf("codec: unmarshal opened payload: %w", err)
		}
		out[i] = &orig
	}
	return out, nil
}
