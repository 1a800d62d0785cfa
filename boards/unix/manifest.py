# Freeze manifest fragment for the simulated board (used by the top-level manifest.py).
module("board.py")
module("vendor_example.py")
