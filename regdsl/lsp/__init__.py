"""The language server, ``regdsl lsp``: the checker's findings, navigation and fixes in an editor, over stdio.

``positions`` converts regdsl's code-point offsets to the positions the client counts in
(UTF-16 code units unless it asks for another encoding); ``document`` checks an open
document's unsaved text through ``check.run`` and indexes what its words name; ``features``
answers the editor's requests from that; ``server`` speaks the protocol (pygls).
"""
