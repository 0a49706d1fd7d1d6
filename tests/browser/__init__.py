"""Tests that open the published pages in Chromium (Debian's; Playwright never downloads one)."""
