package persist

import (
	"slices"
	"testing"
)

func TestParseStorageEtcd(t *testing.T) {
	tests := []struct {
		spec      string
		endpoints []string
		err       string
	}{
		{"etcd:http://127.0.0.1:2379", []string{"http://127.0.0.1:2379"}, ""},
		{"etcd:http://10.0.0.1:2379,http://10.0.0.2:2379,http://10.0.0.3:2379",
			[]string{"http://10.0.0.1:2379", "http://10.0.0.2:2379", "http://10.0.0.3:2379"}, ""},
		{"etcd:https://a:2379, https://b:2379", []string{"https://a:2379", "https://b:2379"}, ""},
		{"etcd:", nil, "invalid storage type 'etcd:'"},
		{"etcd", nil, "invalid storage type 'etcd'"},
		{"etcd:http://a:2379,", nil, "invalid storage type 'etcd:http://a:2379,': empty etcd endpoint"},
		{"etcd:,http://a:2379", nil, "invalid storage type 'etcd:,http://a:2379': empty etcd endpoint"},
	}
	for _, tt := range tests {
		got, err := ParseStorage(tt.spec)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseStorage(%q) error = %v, want %q", tt.spec, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseStorage(%q): %v", tt.spec, err)
			continue
		}
		if got.Kind != "etcd" || !slices.Equal(got.Endpoints(), tt.endpoints) {
			t.Errorf("ParseStorage(%q) = %#v (endpoints %q), want endpoints %q", tt.spec, got, got.Endpoints(), tt.endpoints)
		}
		if again, err := ParseStorage(got.String()); err != nil || again != got {
			t.Errorf("ParseStorage(%q.String()) = %#v, %v", tt.spec, again, err)
		}
	}
}
