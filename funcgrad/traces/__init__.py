"""One module per kind of trace: reverse (vjp) and forward (jvp)."""
