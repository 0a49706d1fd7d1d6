"""The syntax layer: the only package that imports lark."""
