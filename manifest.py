# MicroPython freeze manifest for FlexCharge (read by the port's makemanifest.py with
# this file's directory as the working directory).
#
#   make firmware BOARD=rp2 MPY_DIR=~/micropython
# runs the port's build with FROZEN_MANIFEST=<this file> and these environment variables:
#   FLEXCHARGE_BOARD          our board folder under boards/ (esp32, rp2, ...)
#   FLEXCHARGE_PORT_MANIFEST  the port's/board's own manifest (asyncio, network, ...),
#                             from boards/<board>/board.json "port_manifest"
import os

_board = os.environ.get("FLEXCHARGE_BOARD")
if not _board:
    raise Exception("set FLEXCHARGE_BOARD to a folder under boards/ (make firmware BOARD=...)")
if not os.path.isfile(os.path.join("boards", _board, "manifest.py")):
    raise Exception("no boards/%s/manifest.py" % _board)

include(os.environ.get("FLEXCHARGE_PORT_MANIFEST", "$(PORT_DIR)/boards/manifest.py"))
package("flexcharge", base_path="firmware")
if os.path.isfile("firmware/main.py"):
    # Frozen main.py is run at boot like one on the filesystem.
    module("main.py", base_path="firmware")
include("boards/" + _board)
