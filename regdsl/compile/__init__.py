"""The compiler: lowering, and later the timing, phase and library graphs."""
