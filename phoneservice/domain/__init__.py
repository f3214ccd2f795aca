"""The pure core: hours, working days and calls over plain data, with no I/O."""
