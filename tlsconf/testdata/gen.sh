#!/bin/sh
# Makes the key fixtures of tlsconf's tests with the openssl CLI (3.x): one
# RSA, one EC and one Ed25519 key, each in the encodings that users' files
# come in. Run from this directory: sh gen.sh. Password: fixture-pass.
set -eu
pw=pass:fixture-pass
rm -f *.pem

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa-pkcs8.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec-pkcs8.pem
openssl genpkey -algorithm ED25519 -out ed25519-pkcs8.pem

# Unencrypted traditional forms.
openssl pkey -in rsa-pkcs8.pem -traditional -out rsa-pkcs1.pem
openssl pkey -in ec-pkcs8.pem -traditional -out ec-sec1.pem
# openssl ecparam -genkey writes EC PARAMETERS before the key.
{ openssl ecparam -name prime256v1; cat ec-sec1.pem; } > ec-sec1-params.pem

# Encrypted PKCS#8, OpenSSL 3's default: PBES2, PBKDF2 hmacWithSHA256, AES-256-CBC.
openssl pkey -in rsa-pkcs8.pem -aes256 -passout $pw -out rsa-pbes2-aes256.pem
openssl pkey -in ec-pkcs8.pem -aes256 -passout $pw -out ec-pbes2-aes256.pem
openssl pkey -in ed25519-pkcs8.pem -aes256 -passout $pw -out ed25519-pbes2-aes256.pem
# Other PBES2 ciphers and PRFs.
openssl pkcs8 -topk8 -in ec-pkcs8.pem -v2 aes-128-cbc -passout $pw -out ec-pbes2-aes128.pem
openssl pkcs8 -topk8 -in ec-pkcs8.pem -v2 aes-192-cbc -passout $pw -out ec-pbes2-aes192.pem
openssl pkcs8 -topk8 -in ec-pkcs8.pem -v2 des3 -passout $pw -out ec-pbes2-des3.pem
openssl pkcs8 -topk8 -in ec-pkcs8.pem -v2 aes-256-cbc -v2prf hmacWithSHA1 -passout $pw -out ec-pbes2-sha1.pem
openssl pkcs8 -topk8 -in ec-pkcs8.pem -v2 aes-256-cbc -v2prf hmacWithSHA512 -passout $pw -out ec-pbes2-sha512.pem
# Schemes we do not decrypt: a clear error, not "wrong password".
openssl pkcs8 -topk8 -in ec-pkcs8.pem -scrypt -passout $pw -out ec-scrypt.pem
openssl pkcs8 -topk8 -in ec-pkcs8.pem -v1 PBE-SHA1-3DES -passout $pw -out ec-pbes1.pem 2>/dev/null ||
	openssl pkcs8 -topk8 -in ec-pkcs8.pem -v1 PBE-SHA1-3DES -provider legacy -provider default -passout $pw -out ec-pbes1.pem

# Legacy encrypted PEM (Proc-Type: 4,ENCRYPTED, DEK-Info).
openssl rsa -in rsa-pkcs8.pem -aes128 -traditional -passout $pw -out rsa-legacy-aes128.pem
openssl ec -in ec-pkcs8.pem -des3 -passout $pw -out ec-legacy-des3.pem
