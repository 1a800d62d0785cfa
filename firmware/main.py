# Board boot entry: the board module (boards/<family>/board.py, on the path as `board`)
# says where the configuration and the state live; the lifecycle layer does the rest.
import sys
import board
from flexcharge.lifecycle.boot import main

cfg, state = board.paths()
sys.exit(main(board, cfg, state))
