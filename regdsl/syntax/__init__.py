"""The syntax layer: the only package that imports lark, and the only one that reads source text to locate."""
