"""Child-level returns: the SSDA903 and the CIN census (issue 26; docs/returns.md)."""
