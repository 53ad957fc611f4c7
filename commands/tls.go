package commands

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/pyro4/pyro4/nameserver/config"
	"github.com/pyro4/pyro4/tlsconf"
)

// certCheckInterval is how often the name server compares its certificate
// files' sizes and times, besides the file system events it watches: the
// fallback for file systems without events (NFS, some container volumes).
const certCheckInterval = 30 * time.Second

// tlsFail is the exit of a command whose TLS material does not load: the
// settings name files that do not hold a usable certificate and key (or
// the password is wrong), so it is a bad setting, as a missing one is.
func tlsFail(cmd string, err error) error {
	return &ExitError{Code: 2, Msg: fmt.Sprintf("pyro4 %s: TLS: %v", cmd, err)}
}

// serverCerts loads the name server's certificate, key and client CAs when
// TLS is on (nil when it is off), so that a server asked for TLS never
// starts without it.
func serverCerts(s config.Settings) (*tlsconf.Reloader, error) {
	if !s.TLS.Enabled {
		return nil, nil
	}
	r, err := tlsconf.NewReloader(s.TLS.TLSConf())
	if err != nil {
		return nil, tlsFail("ns", err)
	}
	return r, nil
}

// clientTLS is the client tools' TLS configuration, nil when TLS is off.
func clientTLS(cmd string, s config.Settings) (*tls.Config, error) {
	if !s.TLS.Enabled {
		return nil, nil
	}
	cfg, err := tlsconf.ClientConfig(s.TLS.TLSConf())
	if err != nil {
		return nil, tlsFail(cmd, err)
	}
	return cfg, nil
}

// watchCerts re-reads the certificate files when they change until ctx is
// done, and logs each attempt: a failed one keeps the previous certificate
// in use, and says so.
func watchCerts(ctx context.Context, r *tlsconf.Reloader, log *slog.Logger) {
	r.Watch(ctx, certCheckInterval, func(e tlsconf.ReloadEvent) { logCertReload(log, e) })
}

// reloadCerts is SIGHUP's re-read of the certificate files.
func reloadCerts(r *tlsconf.Reloader, log *slog.Logger) {
	logCertReload(log, tlsconf.ReloadEvent{Err: r.Reload(), Leaf: r.Leaf()})
}

func logCertReload(log *slog.Logger, e tlsconf.ReloadEvent) {
	leaf := []any{"subject", e.Leaf.Subject.String(), "serial", e.Leaf.SerialNumber.String(),
		"not_after", e.Leaf.NotAfter.UTC().Format(time.RFC3339)}
	if e.Err != nil {
		log.Error("TLS certificate not reloaded; still serving the previous one", append([]any{"err", e.Err.Error()}, leaf...)...)
		return
	}
	log.Info("TLS certificate reloaded; new connections use it", leaf...)
}
