package nameserver

import (
	"context"
	"log/slog"

	"github.com/pyro4/pyro4/wire"
)

// The audit trail: one INFO line for every register, set_metadata and
// remove a client made, with who made it, so that PYRO_LOGLEVEL=INFO
// records who registered or removed what. Each runs after its call
// succeeded, with the arguments as bound to the method's signature.

func (ns *nameServer) auditing() bool {
	return ns.log.Enabled(context.Background(), slog.LevelInfo)
}

func (ns *nameServer) auditRegister(peer string, a []wire.Value, _ wire.Value) {
	if !ns.auditing() {
		return
	}
	name, _ := a[0].(string)
	uri, _ := uriArg(a[1]) // it parsed once already, in register
	md, _ := metadataItems("metadata", a[3])
	ns.log.Info("audit", "op", "register", "name", name, "uri", uri, "metadata", auditList(md),
		"safe", wire.Truthy(a[2]), "peer", peer)
}

func (ns *nameServer) auditSetMetadata(peer string, a []wire.Value, _ wire.Value) {
	if !ns.auditing() {
		return
	}
	name, _ := a[0].(string)
	md, _ := metadataItems("metadata", a[1])
	uri := ""
	if e, ok, err := ns.reg.Lookup(name); err == nil && ok {
		uri = e.URI
	}
	ns.log.Info("audit", "op", "set_metadata", "name", name, "uri", uri, "metadata", auditList(md), "peer", peer)
}

// auditRemove logs what the remove asked for (a name, a prefix or a
// regex, as given) and how many names went.
func (ns *nameServer) auditRemove(peer string, a []wire.Value, res wire.Value) {
	if !ns.auditing() {
		return
	}
	attrs := []any{"op", "remove"}
	for i, key := range [...]string{"name", "prefix", "regex"} {
		if a[i] != nil {
			attrs = append(attrs, key, auditValue(a[i]))
		}
	}
	n, _ := res.(int64)
	attrs = append(attrs, "removed", n, "peer", peer)
	ns.log.Info("audit", attrs...)
}

// auditList is the metadata as strings, non-str members (refused by now,
// but the log must not fail on them) in their Python repr.
func auditList(items []wire.Value) []string {
	out := make([]string, 0, len(items))
	for _, v := range items {
		out = append(out, auditValue(v))
	}
	return out
}

func auditValue(v wire.Value) string {
	if s, ok := v.(string); ok {
		return s
	}
	return wire.Repr(v)
}
