"""The checks: a registry of rules over compiled regimens, suppression and configuration."""
