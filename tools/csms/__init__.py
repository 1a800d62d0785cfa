"""Host-side CSMS for FlexCharge: the dev CSMS, the integration-test CSMS and the station driver.

CPython only (built on the PyPI packages `ocpp` and `websockets`). See tools/csms/server.py.
"""

from .server import (  # noqa: F401
    CALL,
    CALLERROR,
    CALLRESULT,
    ERROR_CODES,
    NO_REPLY,
    ConnRecord,
    Csms,
    CsmsSession,
    Frame,
    SchemaBook,
    StationProcess,
    Violation,
    check_station_frame,
    iso_now,
    launcher_command,
)
