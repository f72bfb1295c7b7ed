"""Statistics used by the monitor: drift tests, one pure function each."""
