# Freeze this board's shims at the top level, so `import board` finds them.
module("board.py")
module("pins.py")
