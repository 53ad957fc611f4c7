package wire

import (
	"encoding/base64"
	"fmt"
)

// Class names of the Pyro4.core objects that travel as class dicts.
const (
	ClassURI    = "Pyro4.core.URI"
	ClassProxy  = "Pyro4.core.Proxy"
	ClassDaemon = "Pyro4.core.Daemon"
)

// Proxy is a Pyro4.core.Proxy as it crosses the wire: a client passes one
// as an argument, and it travels as
//
//	{'__class__': 'Pyro4.core.Proxy', 'state': (uri, oneway, methods, attrs,
//	  timeout, hmac, handshake, max_retries, serializer)}
//
// which is what Proxy.__getstate_for_dict__ returns: the URI as a str, the
// metadata sets as tuples, the HMAC key as "b64:<base64>" or None, the
// serializer name or None. A Python peer that rebuilds the proxy keeps the
// URI, metadata, key, handshake and serializer, and takes timeout and
// max_retries from its own configuration.
type Proxy struct {
	URI        URI
	Oneway     []string
	Methods    []string
	Attrs      []string
	Timeout    float64 // seconds; 0 is none, as Pyro4's COMMTIMEOUT
	HMACKey    []byte  // nil: none
	Handshake  Value   // Pyro4's default is "hello"
	MaxRetries int64
	Serializer string // "": none chosen
}

// Value is the class-dict form in which Pyro4 serializes the proxy.
func (p Proxy) Value() Value {
	var hmacKey, ser Value
	if len(p.HMACKey) > 0 {
		hmacKey = "b64:" + base64.StdEncoding.EncodeToString(p.HMACKey)
	}
	if p.Serializer != "" {
		ser = p.Serializer
	}
	state := Tuple{p.URI.String(), Tuple(StrList(p.Oneway)), Tuple(StrList(p.Methods)), Tuple(StrList(p.Attrs)),
		p.Timeout, hmacKey, p.Handshake, p.MaxRetries, ser}
	d := NewDict(2)
	d.Append("__class__", ClassProxy)
	d.Append("state", state)
	return d
}

// ProxyFromValue reads a Proxy class dict. A state Pyro4's
// __setstate_from_dict__ would refuse fails with the exception it raises;
// metadata names that are not str, which Pyro4 would keep, are refused too.
func ProxyFromValue(v Value) (Proxy, error) {
	d, ok := v.(*Dict)
	if c, _ := d.GetString("__class__"); !ok || c != ClassProxy {
		return Proxy{}, fmt.Errorf("not a %s class dict: %s", ClassProxy, Truncate(Repr(v), 80))
	}
	if err := checkProxyState(d); err != nil {
		return Proxy{}, err
	}
	state, _ := d.GetString("state")
	item := func(i int) Value { it, _ := pySubscript(state, i); return it }
	var p Proxy
	p.URI, _ = ParseURI(item(0).(string)) // checkProxyState parsed it
	var err error
	for i, dst := range []*[]string{&p.Oneway, &p.Methods, &p.Attrs} {
		if *dst, err = proxyNames(item(i+1), i+1); err != nil {
			return Proxy{}, err
		}
	}
	if f, ok := ToFloat(item(4)); ok {
		p.Timeout = f
	}
	if s, ok := item(5).(string); ok && s != "" {
		p.HMACKey, _ = pyB64Decode(s[4:]) // checkProxyState decoded it
	}
	p.Handshake = item(6)
	p.MaxRetries, _ = item(7).(int64)
	if it, err := pySubscript(state, 8); err == nil {
		p.Serializer, _ = it.(string)
	}
	return p, nil
}

// proxyNames reads a metadata collection of a proxy state.
func proxyNames(v Value, i int) ([]string, error) {
	names, ok := Strings(v)
	if !ok {
		return nil, &Exception{Class: ClassTypeError, Message: fmt.Sprintf("proxy state[%d] must hold str names, not %s",
			i, Truncate(Repr(v), 40))}
	}
	return names, nil
}
