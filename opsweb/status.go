package opsweb

import "time"

// Status is the body of /api/v1/status. The server fills it; the handler
// sets UptimeSeconds from Started at each request.
type Status struct {
	Version       string      `json:"version"`
	Started       time.Time   `json:"started"`
	UptimeSeconds float64     `json:"uptime_seconds"`
	NSURI         string      `json:"ns_uri"` // the name server's own URI
	Store         string      `json:"store"`  // the store spec, e.g. "memory", "bolt:/var/lib/pyro4/ns.db"
	Counts        Counts      `json:"counts"`
	Connections   Connections `json:"connections"`
	TLS           TLSStatus   `json:"tls"`
	// Cluster is nil (JSON null) when the store is not shared.
	Cluster *ClusterStatus `json:"cluster"`
}

// Counts are the registry's sizes.
type Counts struct {
	Registrations int `json:"registrations"` // everything list() returns, the name server's own name included
	Static        int `json:"static"`        // of those, from the config file
}

// Connections are the Pyro4 listener's client connections.
type Connections struct {
	Open  int64  `json:"open"`
	Total uint64 `json:"total"`
}

// TLSStatus says whether the Pyro4 listener speaks TLS.
type TLSStatus struct {
	Enabled bool `json:"enabled"`
	// ClientAuth: client certificates are required.
	ClientAuth bool `json:"client_auth"`
	// CertNotAfter is the server certificate's expiry; zero when unknown.
	CertNotAfter time.Time `json:"cert_not_after,omitzero"`
}

// ClusterStatus is a shared store's state as this member sees it.
type ClusterStatus struct {
	Backend   string   `json:"backend"`          // e.g. "etcd"
	State     string   `json:"state"`            // e.g. "healthy", "degraded", "unreachable"
	Endpoints []string `json:"endpoints"`        // the members this server talks to
	Detail    string   `json:"detail,omitempty"` // the last error, or what State means here
	// IndexAgeSeconds is how far the local index may lag the shared one.
	IndexAgeSeconds float64 `json:"index_age_seconds"`
}
