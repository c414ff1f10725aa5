"""The block layer of ``qapigen serve``: nodes and their graph, image
files, and dirty bitmaps (spec sections B.3, B.4 and C.4)."""
