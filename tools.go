//go:build tools

package main
import (
 _ "github.com/alecthomas/kong"
 _ "github.com/BurntSushi/toml"
 _ "go.etcd.io/bbolt"
 _ "github.com/fsnotify/fsnotify"
 _ "github.com/vmihailenco/msgpack/v5"
 _ "github.com/kisielk/og-rek"
 _ "github.com/willabides/kongplete"
 _ "github.com/google/btree"
)
func main(){}
