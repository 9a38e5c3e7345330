"""The conformance tests themselves: one module per section of CONTRACT.md."""
