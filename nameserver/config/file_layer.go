package config

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// fileKeys are the keys of the file that set each setting whose key is not
// its own file key, in the order they are looked for.
var fileKeys = map[string][][]string{
	"hmac_key":                {{"hmac_key_file"}, {"hmac_key_env"}},
	"tls.server_key_password": {{"tls", "server_key_password_file"}, {"tls", "server_key_password_env"}},
	"tls.client_key_password": {{"tls", "client_key_password_file"}, {"tls", "client_key_password_env"}},
}

// settingLines finds the line of every setting the file sets, by setting key.
func (p *parser) settingLines() map[string]int {
	lines := map[string]int{}
	for _, it := range items {
		keys, ok := fileKeys[it.key]
		if !ok {
			keys = [][]string{strings.Split(it.key, ".")}
		}
		for _, k := range keys {
			if !slices.ContainsFunc(p.keys, func(tk toml.Key) bool { return slices.Equal([]string(tk), k) }) {
				continue
			}
			if line := p.at(1, k...); line > 0 {
				lines[it.key] = line
				break
			}
		}
	}
	return lines
}

// source is where the file sets the setting key: "path:line", or the path
// when the line is not known.
func (c *Config) source(key string) Source {
	if line := c.lines[key]; line > 0 {
		return FileSource(c.Path + ":" + strconv.Itoa(line))
	}
	return FileSource(c.Path)
}

// Layer is what the file sets, each setting with the line that sets it. A
// nil Config sets nothing. The static registrations are always set: a file
// without any has none.
func (c *Config) Layer() Layer {
	var l Layer
	if c == nil {
		return l
	}
	str := func(dst *Value[string], v *string, key string) {
		if v != nil {
			*dst = Given(*v, c.source(key))
		}
	}
	num := func(dst *Value[int], v *int, key string) {
		if v != nil {
			*dst = Given(*v, c.source(key))
		}
	}
	flag := func(dst *Value[bool], v *bool, key string) {
		if v != nil {
			*dst = Given(*v, c.source(key))
		}
	}
	dur := func(dst *Value[time.Duration], v *time.Duration, key string) {
		if v != nil {
			*dst = Given(*v, c.source(key))
		}
	}
	key := func(dst *Value[Secret], v []byte, key string) {
		if v != nil {
			*dst = Given(Secret(clone(v)), c.source(key))
		}
	}
	str(&l.Host, c.Host, "host")
	num(&l.Port, c.Port, "port")
	str(&l.UnixSocket, c.UnixSocket, "unixsocket")
	str(&l.Storage, c.Storage, "storage")
	flag(&l.Broadcast, c.BroadcastEnabled, "broadcast.enabled")
	str(&l.BroadcastHost, c.BroadcastHost, "broadcast.host")
	num(&l.BroadcastPort, c.BroadcastPort, "broadcast.port")
	str(&l.NATHost, c.NATHost, "nat.host")
	num(&l.NATPort, c.NATPort, "nat.port")
	if c.SerializersAccepted != nil {
		l.SerializersAccepted = Given(clone(c.SerializersAccepted), c.source("serializers_accepted"))
	}
	if c.CommTimeout != nil {
		l.CommTimeout = Given(*c.CommTimeout, c.source("comm_timeout"))
	}
	if c.AutoClean != nil {
		l.AutoClean = Given(*c.AutoClean, c.source("autoclean"))
	}
	num(&l.MaxMessageSize, c.MaxMessageSize, "max_message_size")
	flag(&l.Compression, c.Compression, "compression")
	num(&l.ReplyBudget, c.ReplyBudget, "reply_budget")
	num(&l.MaxConnections, c.MaxConnections, "max_connections")
	if c.ScanTimeout != nil {
		l.ScanTimeout = Given(*c.ScanTimeout, c.source("scan_timeout"))
	}
	key(&l.HMACKey, c.HMACKey, "hmac_key")
	t := &c.TLS
	flag(&l.TLS.Enabled, t.Enabled, "tls.ssl")
	str(&l.TLS.ServerCert, t.ServerCert, "tls.server_cert")
	str(&l.TLS.ServerKey, t.ServerKey, "tls.server_key")
	key(&l.TLS.ServerKeyPassword, t.ServerKeyPassword, "tls.server_key_password")
	flag(&l.TLS.RequireClientCert, t.RequireClientCert, "tls.require_client_cert")
	str(&l.TLS.ClientCert, t.ClientCert, "tls.client_cert")
	str(&l.TLS.ClientKey, t.ClientKey, "tls.client_key")
	key(&l.TLS.ClientKeyPassword, t.ClientKeyPassword, "tls.client_key_password")
	str(&l.TLS.CACerts, t.CACerts, "tls.ca_certs")
	str(&l.HTTPListen, c.HTTPListen, "http.listen")
	str(&l.LogFormat, c.LogFormat, "log_format")
	et := &c.Etcd
	str(&l.Etcd.Prefix, et.Prefix, "etcd.prefix")
	dur(&l.Etcd.DialTimeout, et.DialTimeout, "etcd.dial_timeout")
	dur(&l.Etcd.RequestTimeout, et.RequestTimeout, "etcd.request_timeout")
	str(&l.Etcd.CA, et.CA, "etcd.ca")
	str(&l.Etcd.Cert, et.Cert, "etcd.cert")
	str(&l.Etcd.Key, et.Key, "etcd.key")
	str(&l.Etcd.Username, et.Username, "etcd.username")
	str(&l.Etcd.PasswordFile, et.PasswordFile, "etcd.password_file")
	l.Static = Given(clone(c.Registrations), c.source("registration"))
	return l
}
