# OCPP-J error vocabulary shared by the RPC layer and the core (Part 4 §4.3, Table 8).


class CallError(Exception):
    """Raised by a handler (or the RPC layer) to answer a CALL with a CALLERROR.

    Also raised by Rpc.call() when the peer answered our CALL with a CALLERROR.
    """

    def __init__(self, code, description="", details=None):
        super().__init__(code, description)
        self.code = code
        self.description = description
        self.details = details if details is not None else {}


class CallTimeout(Exception):
    """Our CALL got no CALLRESULT/CALLERROR within MessageTimeout."""


class NotConnected(Exception):
    """There is no open connection to the CSMS."""


FORMAT_VIOLATION = "FormatViolation"
GENERIC_ERROR = "GenericError"
INTERNAL_ERROR = "InternalError"
MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"
NOT_IMPLEMENTED = "NotImplemented"
NOT_SUPPORTED = "NotSupported"
OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
PROTOCOL_ERROR = "ProtocolError"
RPC_FRAMEWORK_ERROR = "RpcFrameworkError"
SECURITY_ERROR = "SecurityError"
TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
