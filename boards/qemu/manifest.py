# Freeze manifest fragment for the qemu board (used by the top-level manifest.py).
# The simulated station world of boards/unix is frozen as `unix.board` and reused.
module("board.py")
module("unix/board.py", base_path="..")
