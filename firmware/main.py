# Board boot entry: the board module (boards/<family>/board.py, on the path as `board`)
# says where the configuration and the state live; the lifecycle layer does the rest.
import sys

try:
    import board
    from flexcharge.lifecycle.boot import main

    cfg, state = board.paths()
    code = main(board, cfg, state)
except BaseException as e:  # noqa: B036 -- SystemExit included: report, never on stdout
    if isinstance(e, SystemExit):
        raise
    # This port prints uncaught tracebacks on stdout, which belongs to the JSON event stream.
    sys.print_exception(e, sys.stderr)
    code = 1
sys.exit(code)
