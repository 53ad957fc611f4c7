package config
import ("testing";"fmt")
func TestProbe(t *testing.T){ _, err := Parse("f", []byte("host = \"127.0.0.1\"\nport = 5\n[[registration]\n"), nil); fmt.Println(err) }
