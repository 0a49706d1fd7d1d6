"""Publishing: compiled regimens rendered as JSON, Markdown and HTML pages, and a static site."""
