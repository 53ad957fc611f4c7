package tlsconf

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
)

// errWrongPassword is what a failed decryption reports: with CBC and PKCS#7
// padding a wrong password and a damaged file look the same.
var errWrongPassword = errors.New("wrong password or damaged key")

// maxIterations bounds PBKDF2's work so that a hostile or damaged file cannot
// stall the start; OpenSSL 3 writes 2048, cautious tools a few hundred thousand.
const maxIterations = 10_000_000

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	// PKCS#12 PBES1 schemes, written by `openssl pkcs8 -v1`; named in the
	// error so that the user knows to re-encrypt, not to retype the password.
	oidPKCS12PBE = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1}
	oidPKCS5PBE1 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5}
)

// RFC 5208 EncryptedPrivateKeyInfo.
type encryptedPrivateKeyInfo struct {
	Algorithm     algorithmIdentifier
	EncryptedData []byte
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

// RFC 8018 PBES2-params.
type pbes2Params struct {
	KeyDerivationFunc algorithmIdentifier
	EncryptionScheme  algorithmIdentifier
}

// RFC 8018 PBKDF2-params. The salt's "otherSource" choice is not used by
// any tool we know of; asn1 rejects it as a type mismatch.
type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int                 `asn1:"optional"`
	PRF            algorithmIdentifier `asn1:"optional"`
}

type cbcCipher struct {
	name    string
	keySize int
	block   func(key []byte) (cipher.Block, error)
}

func cipherFor(oid asn1.ObjectIdentifier) (cbcCipher, bool) {
	switch {
	case oid.Equal(oidAES128CBC):
		return cbcCipher{"aes-128-cbc", 16, aes.NewCipher}, true
	case oid.Equal(oidAES192CBC):
		return cbcCipher{"aes-192-cbc", 24, aes.NewCipher}, true
	case oid.Equal(oidAES256CBC):
		return cbcCipher{"aes-256-cbc", 32, aes.NewCipher}, true
	case oid.Equal(oidDESEDE3CBC):
		return cbcCipher{"des-ede3-cbc", 24, des.NewTripleDESCipher}, true
	}
	return cbcCipher{}, false
}

func prfFor(oid asn1.ObjectIdentifier) (func() hash.Hash, bool) {
	switch {
	case len(oid) == 0, oid.Equal(oidHMACSHA1): // absent means the default, hmacWithSHA1
		return sha1.New, true
	case oid.Equal(oidHMACSHA224):
		return sha256.New224, true
	case oid.Equal(oidHMACSHA256):
		return sha256.New, true
	case oid.Equal(oidHMACSHA384):
		return sha512.New384, true
	case oid.Equal(oidHMACSHA512):
		return sha512.New, true
	}
	return nil, false
}

// decryptPKCS8 turns the DER of an ENCRYPTED PRIVATE KEY block into the DER
// of the PKCS#8 PrivateKeyInfo inside. Only PBES2 with PBKDF2 is supported:
// it is what OpenSSL 1.1 and 3 write unless told otherwise.
func decryptPKCS8(der, password []byte, iterLimit int) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil {
		return nil, fmt.Errorf("not an encrypted PKCS#8 key: %w", err)
	} else if len(rest) != 0 {
		return nil, errors.New("not an encrypted PKCS#8 key: trailing data")
	}
	alg := info.Algorithm.Algorithm
	if !alg.Equal(oidPBES2) {
		if hasPrefix(alg, oidPKCS12PBE) || hasPrefix(alg, oidPKCS5PBE1) {
			return nil, fmt.Errorf("unsupported PBES1 encryption %v: re-encrypt with `openssl pkey -aes256`", alg)
		}
		return nil, fmt.Errorf("unsupported key encryption %v", alg)
	}
	var params pbes2Params
	if err := unmarshalAll(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("PBES2 parameters: %w", err)
	}
	kdf := params.KeyDerivationFunc
	if kdf.Algorithm.Equal(oidScrypt) {
		return nil, errors.New("unsupported key derivation scrypt: re-encrypt with `openssl pkey -aes256`")
	}
	if !kdf.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("unsupported key derivation %v", kdf.Algorithm)
	}
	var kp pbkdf2Params
	if err := unmarshalAll(kdf.Parameters.FullBytes, &kp); err != nil {
		return nil, fmt.Errorf("PBKDF2 parameters: %w", err)
	}
	if kp.IterationCount < 1 || kp.IterationCount > iterLimit {
		return nil, fmt.Errorf("PBKDF2 iteration count %d outside 1..%d", kp.IterationCount, iterLimit)
	}
	prf, ok := prfFor(kp.PRF.Algorithm)
	if !ok {
		return nil, fmt.Errorf("unsupported PBKDF2 pseudo-random function %v", kp.PRF.Algorithm)
	}
	c, ok := cipherFor(params.EncryptionScheme.Algorithm)
	if !ok {
		return nil, fmt.Errorf("unsupported key cipher %v", params.EncryptionScheme.Algorithm)
	}
	if kp.KeyLength != 0 && kp.KeyLength != c.keySize {
		return nil, fmt.Errorf("PBKDF2 key length %d does not fit %s", kp.KeyLength, c.name)
	}
	var iv []byte
	if err := unmarshalAll(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil {
		return nil, fmt.Errorf("%s IV: %w", c.name, err)
	}
	key, err := pbkdf2.Key(prf, string(password), kp.Salt, kp.IterationCount, c.keySize)
	if err != nil {
		return nil, fmt.Errorf("PBKDF2: %w", err)
	}
	block, err := c.block(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	bs := block.BlockSize()
	if len(iv) != bs {
		return nil, fmt.Errorf("%s IV is %d bytes, want %d", c.name, len(iv), bs)
	}
	data := info.EncryptedData
	if len(data) == 0 || len(data)%bs != 0 {
		return nil, fmt.Errorf("encrypted data of %d bytes is not a whole number of %s blocks", len(data), c.name)
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	return unpad(plain, bs)
}

// unpad removes PKCS#7 padding; a mismatch is the usual sign of a wrong
// password, checked without branching on the secret bytes.
func unpad(b []byte, bs int) ([]byte, error) {
	n := int(b[len(b)-1])
	if n == 0 || n > bs {
		return nil, errWrongPassword
	}
	pad := b[len(b)-n:]
	want := make([]byte, n)
	for i := range want {
		want[i] = byte(n)
	}
	if subtle.ConstantTimeCompare(pad, want) != 1 {
		return nil, errWrongPassword
	}
	return b[:len(b)-n], nil
}

func unmarshalAll(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("trailing data")
	}
	return nil
}

func hasPrefix(oid, prefix asn1.ObjectIdentifier) bool {
	return len(oid) > len(prefix) && oid[:len(prefix)].Equal(prefix)
}
