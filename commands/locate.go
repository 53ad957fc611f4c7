package commands

import "errors"

// LocateCmd is not built yet.
type LocateCmd struct{}

// Run executes the command.
func (c *LocateCmd) Run(io *IO) error { return errors.New("not implemented yet") }
