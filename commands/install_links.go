package commands

import "errors"

// InstallLinksCmd is not built yet.
type InstallLinksCmd struct{}

// Run executes the command.
func (c *InstallLinksCmd) Run(io *IO) error { return errors.New("not implemented yet") }
