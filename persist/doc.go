// Package persist holds the name server's registrations behind the Store
// interface. Two backends implement it: Memory, the default, and Bolt, a
// bbolt file in which every acknowledged write is committed and fsynced
// before the call returns, with concurrent writers grouped into one commit.
package persist
