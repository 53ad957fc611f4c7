package commands

import "errors"

// ResolveCmd is not built yet.
type ResolveCmd struct{}

// Run executes the command.
func (c *ResolveCmd) Run(io *IO) error { return errors.New("not implemented yet") }
