"""Checks of a composed config (single values, then the cross-field rules), override checks, sweep naming."""
