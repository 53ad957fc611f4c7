package commands

import "errors"

// NsCmd is not built yet.
type NsCmd struct{}

// Run executes the command.
func (c *NsCmd) Run(io *IO) error { return errors.New("not implemented yet") }
