# Board boot entry: the board module (boards/<family>/board.py, on the path as `board`)
# says where the configuration and the state live; the lifecycle layer does the rest.
#
# On an MCU this file is also the bootloader step of L01/L04 (lifecycle/slots.py): an installed
# update is a module tree in <state>/fw/<slot>.d/ that is put first on sys.path, ahead of the
# frozen modules, and whose own main.py then runs. The unix board's launcher (tools/station)
# does that step itself, before the MicroPython process starts.
import sys


def _crashed(board):
    # The previous run ended by the watchdog: a new image on trial is rolled back. A board may
    # say so itself (crashed()); else machine.reset_cause() tells.
    fn = getattr(board, "crashed", None)
    if fn is not None:
        return fn()
    try:
        import machine
    except ImportError:
        return False
    from flexcharge.hal.reset import MachineReset

    try:
        return MachineReset(machine).cause() == "watchdog"
    except Exception:
        return False


def _slot_tree(board, state):
    from flexcharge.lifecycle.slots import select

    try:
        mode, tree = select(state, _crashed(board))
    except Exception as e:  # a damaged slot state must not brick the station: factory firmware
        sys.stderr.write("firmware slots unusable: %r\n" % (e,))
        return None
    if mode != "normal" or tree:
        sys.stderr.write("firmware slot: %s, booting %s\n" % (mode, tree or "the factory firmware"))
    return tree


def _run_tree(tree):
    # The tree's modules replace the ones loaded so far (ours and the board's): drop them.
    for name in list(sys.modules):
        if name in ("board", "pins") or name == "flexcharge" or name.startswith("flexcharge."):
            del sys.modules[name]
    sys.path.insert(0, tree)
    with open(tree + "/main.py") as f:
        src = f.read()
    exec(src, {"__name__": "__main__", "FLEXCHARGE_SLOT": tree})


try:
    import board

    cfg, state = board.paths()
    # FLEXCHARGE_SLOT: set when this file is a slot's main.py run by the factory one (no second select).
    if not getattr(board, "LAUNCHER_SELECTS_SLOT", False) and "FLEXCHARGE_SLOT" not in globals():
        tree = _slot_tree(board, state)
        if tree:
            _run_tree(tree)  # ends with the slot's own sys.exit()
            sys.exit(1)  # a slot main.py that returned did not run a station
    from flexcharge.lifecycle.boot import main

    code = main(board, cfg, state)
except BaseException as e:  # noqa: B036 -- SystemExit included: report, never on stdout
    if isinstance(e, SystemExit):
        raise
    # This port prints uncaught tracebacks on stdout, which belongs to the JSON event stream.
    sys.print_exception(e, sys.stderr)
    code = 1
sys.exit(code)
