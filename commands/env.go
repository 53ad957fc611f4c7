package commands

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// PyroEnv holds the PYRO_* configuration items this binary reads, with
// Pyro4 4.82's defaults. The environment is read in one place, here; the
// commands turn these values into explicit options for nameserver and
// locator, which never look at the environment themselves.
type PyroEnv struct {
	Host                string        // PYRO_HOST: where a server binds
	NSHost              string        // PYRO_NS_HOST: where clients look for the name server
	NSPort              int           // PYRO_NS_PORT
	NSBcPort            int           // PYRO_NS_BCPORT
	NSBcHost            string        // PYRO_NS_BCHOST ("" = unset)
	NATHost             string        // PYRO_NATHOST ("" = unset)
	NATPort             int           // PYRO_NATPORT
	SerializersAccepted string        // PYRO_SERIALIZERS_ACCEPTED, comma separated
	Serializer          string        // PYRO_SERIALIZER: what a client sends with
	CommTimeout         time.Duration // PYRO_COMMTIMEOUT (seconds; 0 = none)
	MaxMessageSize      int           // PYRO_MAX_MESSAGE_SIZE (0 = unlimited)
	Compression         bool          // PYRO_COMPRESSION
	NSAutoclean         time.Duration // PYRO_NS_AUTOCLEAN (seconds; 0 = off)
	BroadcastAddrs      []string      // PYRO_BROADCAST_ADDRS, comma separated
	HMACKey             string        // PYRO_HMAC_KEY
	HMACKeySet          bool          // PYRO_HMAC_KEY present (even if empty)
	LogLevel            string        // PYRO_LOGLEVEL ("" = unset); checked by the command that logs
	LogFile             string        // PYRO_LOGFILE ("" = unset, "{stderr}" = stderr)
}

// DefaultPyroEnv returns Pyro4's defaults with no environment applied.
func DefaultPyroEnv() PyroEnv {
	return PyroEnv{
		Host:                "localhost",
		NSHost:              "localhost",
		NSPort:              9090,
		NSBcPort:            9091,
		SerializersAccepted: "serpent,marshal,json",
		Serializer:          "serpent",
		BroadcastAddrs:      []string{"<broadcast>", "0.0.0.0"},
	}
}

// LoadPyroEnv applies the PYRO_* variables found by lookup (os.LookupEnv in
// production) over the defaults. A malformed value is an error naming the
// variable, as Pyro4's own config raises ValueError for it.
func LoadPyroEnv(lookup func(string) (string, bool)) (PyroEnv, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	e := DefaultPyroEnv()
	str := func(name string, dst *string) {
		if v, ok := lookup("PYRO_" + name); ok {
			*dst = v
		}
	}
	var errs []string
	num := func(name string, dst *int) {
		if v, ok := lookup("PYRO_" + name); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				errs = append(errs, fmt.Sprintf("PYRO_%s=%q: not an integer", name, v))
				return
			}
			*dst = n
		}
	}
	secs := func(name string, dst *time.Duration) {
		if v, ok := lookup("PYRO_" + name); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 {
				errs = append(errs, fmt.Sprintf("PYRO_%s=%q: not a number of seconds", name, v))
				return
			}
			*dst = time.Duration(f * float64(time.Second))
		}
	}
	str("HOST", &e.Host)
	str("NS_HOST", &e.NSHost)
	num("NS_PORT", &e.NSPort)
	num("NS_BCPORT", &e.NSBcPort)
	str("NS_BCHOST", &e.NSBcHost)
	str("NATHOST", &e.NATHost)
	num("NATPORT", &e.NATPort)
	str("SERIALIZERS_ACCEPTED", &e.SerializersAccepted)
	str("SERIALIZER", &e.Serializer)
	secs("COMMTIMEOUT", &e.CommTimeout)
	num("MAX_MESSAGE_SIZE", &e.MaxMessageSize)
	secs("NS_AUTOCLEAN", &e.NSAutoclean)
	str("LOGLEVEL", &e.LogLevel)
	str("LOGFILE", &e.LogFile)
	if v, ok := lookup("PYRO_COMPRESSION"); ok {
		switch strings.ToLower(v) {
		case "0", "off", "no", "false":
			e.Compression = false
		case "1", "yes", "on", "true":
			e.Compression = true
		default:
			errs = append(errs, fmt.Sprintf("invalid boolean value: PYRO_COMPRESSION=%s", v))
		}
	}
	if v, ok := lookup("PYRO_BROADCAST_ADDRS"); ok {
		e.BroadcastAddrs = ParseAddresses(v)
	}
	e.HMACKey, e.HMACKeySet = lookup("PYRO_HMAC_KEY")
	if len(errs) > 0 {
		return e, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return e, nil
}

// ParseAddresses splits a comma-separated address list as Pyro4 does: items
// are trimmed and the literal ” stands for the empty string.
func ParseAddresses(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		if a == "''" {
			a = ""
		}
		out = append(out, a)
	}
	return out
}
