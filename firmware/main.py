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
    from flexcharge.lifecycle.slots import boot_step

    return boot_step(state, _crashed(board), lambda text: sys.stderr.write(text + "\n"))[1]


def _run_tree(tree):
    # The tree's modules replace the ones loaded so far (ours and the board's): drop them.
    for name in list(sys.modules):
        if name in ("board", "pins") or name == "flexcharge" or name.startswith("flexcharge."):
            del sys.modules[name]
    sys.path.insert(0, tree)
    with open(tree + "/main.py") as f:
        src = f.read()
    exec(src, {"__name__": "__main__", "FLEXCHARGE_SLOT": tree})


def _restart(board):
    # No launcher starts an MCU again: the chip restarts itself (a board may say how: reboot()).
    fn = getattr(board, "reboot", None)
    if fn is None:
        import machine

        fn = machine.reset
    fn()


EXIT_OK, EXIT_CONFIG = 0, 2  # lifecycle/boot.py: a clean stop, a configuration the firmware refuses

board = None
mcu = False
code = 1
try:
    import board

    cfg, state = board.paths()
    mcu = not getattr(board, "LAUNCHER_SELECTS_SLOT", False)
    # FLEXCHARGE_SLOT: set when this file is a slot's main.py run by the factory one (no second select).
    if mcu and "FLEXCHARGE_SLOT" not in globals():
        tree = _slot_tree(board, state)
        if tree:
            try:
                _run_tree(tree)  # the slot's own main.py: runs the station, restarts the chip itself
            except BaseException as e:  # noqa: B036 -- an image that stops during its trial
                if not isinstance(e, SystemExit):
                    sys.print_exception(e, sys.stderr)
            # The image came back here instead of running: restart, so its trial count (and after
            # lifecycle.slots.MAX_TRIES starts, the rollback) goes on without a power cycle (L01/L04).
            sys.stderr.write("firmware slot %s stopped: restarting\n" % tree)
            _restart(board)
            sys.exit(1)
    from flexcharge.lifecycle.boot import main

    code = main(board, cfg, state)
except BaseException as e:  # noqa: B036 -- SystemExit included: report, never on stdout
    if isinstance(e, SystemExit):
        raise
    # This port prints uncaught tracebacks on stdout, which belongs to the JSON event stream.
    sys.print_exception(e, sys.stderr)
    code = 1
if mcu and code not in (EXIT_OK, EXIT_CONFIG):
    # A requested Reset (B11/B12, a firmware switch: exit 3) or a crash: on an MCU that is a chip
    # restart. A clean stop and a refused configuration stay down (the REPL is there to fix it).
    _restart(board)
sys.exit(code)
