// Package tlsconf turns Pyro4's SSL configuration items into crypto/tls
// configurations for the name server and for the client tools, and keeps
// the server's certificate current while it runs.
//
// Pyro4 4.82 builds its contexts in socketutil.getSSLcontext; this package
// follows it item by item:
//
//   - Settings holds SSL, SSL_SERVERCERT, SSL_SERVERKEY, SSL_SERVERKEYPASSWD,
//     SSL_REQUIRECLIENTCERT, SSL_CLIENTCERT, SSL_CLIENTKEY,
//     SSL_CLIENTKEYPASSWD and SSL_CACERTS; FromEnv reads them from PYRO_*
//     and ParseBool takes Pyro4's boolean spellings.
//   - The server (NewReloader, ServerConfig) presents SSL_SERVERCERT, whose
//     file may hold the key as well. Client certificates are asked for only
//     with SSL_REQUIRECLIENTCERT (Pyro4 otherwise sets CERT_NONE and does
//     not ask), and are verified against SSL_CACERTS alone, never the
//     system roots. TLS 1.2 is the minimum, as in Python's defaults.
//   - The client (ClientConfig, ForHost) verifies the server against the
//     system roots plus SSL_CACERTS and checks the host of the URI it
//     connects to, as check_hostname does; it sends SSL_CLIENTCERT when set.
//   - SSL_CACERTS is a PEM file or an OpenSSL hashed directory (files named
//     like 3f1a2b4c.0, as `openssl rehash` makes them).
//
// Keys are PEM: PKCS#1, SEC 1 and PKCS#8 unencrypted; legacy encrypted PEM
// (Proc-Type: 4,ENCRYPTED); and encrypted PKCS#8 with PBES2 and PBKDF2
// (HMAC-SHA1/224/256/384/512) over AES-128/192/256-CBC or DES-EDE3-CBC,
// which is what `openssl pkey -aes256` writes by default and what the
// standard library does not decrypt. scrypt and PBES1 keys get an error
// saying so.
//
// Rotation: a Reloader's Config picks the current material for every
// handshake (GetConfigForClient), so one listener follows every reload
// while established connections keep what they negotiated. Reload re-reads
// the files (for SIGHUP); Watch re-reads them when they change (fsnotify on
// their directories, and a stat check every interval). A file that fails
// to load leaves the last good material in use and is reported.
//
// ClientError and ServerError turn the usual handshake failures into
// messages that name what to fix: a server wanting a client certificate,
// a host not named in the certificate, an unknown authority, a peer that
// does not speak TLS or speaks plain Pyro. LooksLikeTLS lets a plain server
// recognise a TLS client.
//
// Where it differs from Python's ssl module, deliberately:
//
//   - crypto/tls never matches a host against the subject's common name;
//     OpenSSL still does when a certificate has no subject alternative
//     names. Such certificates are refused: issue them with SANs.
//   - SSL_REQUIRECLIENTCERT without SSL_CACERTS is an error at start;
//     Python starts and then refuses every client.
//   - A hashed directory is read when the material is (re)loaded; OpenSSL
//     looks files up at each verification. Watch covers the directory, so
//     a new file counts from the next check.
//   - Python's Pyro4 over a Unix socket checks the host name "/" (the first
//     character of the socket path) and so refuses every certificate; the
//     host a Unix-socket client checks is the caller's choice here.
package tlsconf
