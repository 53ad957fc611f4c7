package config

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pyro4/pyro4/nameserver"
	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// defaultLayer is Pyro4 4.82's defaults for every setting, each with the
// default as its source. The protocol's own defaults come from wire.
func defaultLayer() Layer {
	d := DefaultSource()
	return Layer{
		Host:                Given(wire.DefaultHost, d),
		NSHost:              Given(wire.DefaultNSHost, d),
		Port:                Given(wire.DefaultNSPort, d),
		UnixSocket:          Given("", d),
		Storage:             Given("memory", d),
		Broadcast:           Given(true, d),
		BroadcastHost:       Given("", d),
		BroadcastPort:       Given(wire.DefaultBcPort, d),
		BroadcastAddrs:      Given(clone(wire.DefaultBroadcastAddrs), d),
		NATHost:             Given("", d),
		NATPort:             Given(0, d),
		SerializersAccepted: Given(clone(wire.DefaultAccepted), d),
		Serializer:          Given(wire.DefaultSerializer, d),
		CommTimeout:         Given[time.Duration](0, d),
		AutoClean:           Given[time.Duration](0, d),
		MaxMessageSize:      Given(0, d),
		Compression:         Given(false, d),
		HMACKey:             Given[Secret](nil, d),
		ReplyBudget:         Given(nameserver.DefaultReplyBudget, d),
		ScanTimeout:         Given(nameserver.DefaultScanTimeout, d),
		MaxConnections:      Given(0, d),
		LogLevel:            Given("", d),
		LogFile:             Given("", d),
		LogFormat:           Given("text", d),
		HTTPListen:          Given("", d),
		TLS: TLSLayer{
			Enabled:           Given(false, d),
			ServerCert:        Given("", d),
			ServerKey:         Given("", d),
			ServerKeyPassword: Given[Secret](nil, d),
			RequireClientCert: Given(false, d),
			ClientCert:        Given("", d),
			ClientKey:         Given("", d),
			ClientKeyPassword: Given[Secret](nil, d),
			CACerts:           Given("", d),
		},
		Etcd:   defaultEtcdLayer(d),
		Static: Given[[]persist.Entry](nil, d),
	}
}

// Defaults returns Pyro4 4.82's defaults.
func Defaults() Settings {
	return Resolved{l: defaultLayer()}.Settings()
}

// SettingError is a setting whose value, once every source is layered, is
// not one the command can run with; it names the setting as its source
// does (PYRO_NS_PORT, -p, the file's line).
type SettingError struct {
	Key    string
	Source Source
	Value  string
	Msg    string
}

func (e *SettingError) Error() string {
	switch e.Source.Origin {
	case FromEnv:
		return fmt.Sprintf("%s=%q: %s", e.Source.Where, e.Value, e.Msg)
	case FromFlag:
		return fmt.Sprintf("%s %s: %s", e.Source.Where, e.Value, e.Msg)
	case FromFile:
		return fmt.Sprintf("%s: %s: %s", e.Source.Where, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Key, e.Msg)
}

func settingErr(key string, f field, format string, a ...any) error {
	return &SettingError{Key: key, Source: f.source(), Value: f.text(), Msg: fmt.Sprintf(format, a...)}
}

// validate checks the resolved settings that concern scope.
func (r *Resolved) validate(scope Scope) error {
	l := &r.l
	for _, p := range []struct {
		key string
		v   *Value[int]
	}{{"port", &l.Port}, {"broadcast.port", &l.BroadcastPort}, {"nat.port", &l.NATPort}} {
		if p.v.V < 0 || p.v.V > 65535 {
			return settingErr(p.key, p.v, "port out of range (0-65535)")
		}
	}
	if l.MaxMessageSize.V < 0 {
		return settingErr("max_message_size", &l.MaxMessageSize, "negative (0 means unlimited)")
	}
	if l.ReplyBudget.V < 0 {
		return settingErr("reply_budget", &l.ReplyBudget, "negative (0 means unlimited)")
	}
	if l.MaxConnections.V < 0 {
		return settingErr("max_connections", &l.MaxConnections, "negative (0 means unlimited)")
	}
	if scope&ForClient != 0 {
		if _, ok := wire.CodecByName(l.Serializer.V); !ok {
			return settingErr("serializer", &l.Serializer, "unknown serializer")
		}
	}
	if scope&ForServer != 0 {
		if _, err := wire.ParseAccepted(strings.Join(l.SerializersAccepted.V, ",")); err != nil {
			return settingErr("serializers_accepted", &l.SerializersAccepted, "%v", err)
		}
		if err := CheckLogFormat(l.LogFormat.V); err != nil {
			return settingErr("log_format", &l.LogFormat, "%v", err)
		}
		if err := CheckHTTPListen(l.HTTPListen.V); err != nil {
			return settingErr("http.listen", &l.HTTPListen, "%v", err)
		}
		if err := r.validateEtcd(); err != nil {
			return err
		}
	}
	return r.validateTLS(scope)
}

// ParseLogLevel maps the names of Python's logging levels, which
// PYRO_LOGLEVEL takes, to slog levels.
func ParseLogLevel(name string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "DEBUG", "NOTSET":
		return slog.LevelDebug, nil
	case "INFO":
		return slog.LevelInfo, nil
	case "WARNING", "WARN":
		return slog.LevelWarn, nil
	case "ERROR":
		return slog.LevelError, nil
	case "CRITICAL", "FATAL":
		return slog.LevelError + 4, nil
	}
	return 0, fmt.Errorf("PYRO_LOGLEVEL=%q: not a log level (DEBUG, INFO, WARNING, ERROR or CRITICAL)", name)
}
