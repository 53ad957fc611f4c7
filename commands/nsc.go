package commands

import "errors"

// NscCmd is not built yet.
type NscCmd struct{}

// Run executes the command.
func (c *NscCmd) Run(io *IO) error { return errors.New("not implemented yet") }
