#!/usr/bin/env python3
"""Generate the station's compact OCPP schema tables from the `ocpp` package's JSON schemas.

    python tools/gen_schemas.py v201            # writes firmware/flexcharge/core/v201/...
    python tools/gen_schemas.py v21 --out DIR   # DIR/schemas/*.py + DIR/actions.py

Only the messages the charging station *receives* get a table: the Requests of
CSMS-initiated actions and the Responses to station-initiated ones (DataTransfer is
both). Each table is its own module holding one constant `S` built only of
tuples/str/int/float/None/bool, so mpy-cross folds it into a constant object that
stays in flash when frozen; core/schema.py documents the encoding and validates.
Output is deterministic (sorted, no timestamps); host_tests/unit/test_schema_differential.py
checks that the committed files match it.
"""
import json
import os
import pprint
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Actions the Charging Station initiates (CALLs it sends). Everything else with a
# schema is CSMS-initiated. DataTransfer goes both ways (P01 and P02).
# 2.0.1: checked against Part 6 (TC_*_CS step tables: "The Charging Station sends" /
# "The OCTT responds with") and Part 2 use cases.
_CS_V201 = (
    "Authorize",
    "BootNotification",
    "ClearedChargingLimit",
    "DataTransfer",
    "FirmwareStatusNotification",
    "Get15118EVCertificate",
    "GetCertificateStatus",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyReport",
    "PublishFirmwareStatusNotification",
    "ReportChargingProfiles",
    "ReservationStatusUpdate",
    "SecurityEventNotification",
    "SignCertificate",
    "StatusNotification",
    "TransactionEvent",
)
# 2.1 additions (OCPP 2.1 Part 2; that part is not in shared/spec: re-check when the
# 2.1 profile is enabled). NotifyPeriodicEventStream is a SEND (no response).
_CS_V21_EXTRA = (
    "BatterySwap",
    "ClosePeriodicEventStream",
    "GetCertificateChainStatus",
    "NotifyDERAlarm",
    "NotifyDERStartStop",
    "NotifyPeriodicEventStream",
    "NotifyPriorityCharging",
    "NotifySettlement",
    "OpenPeriodicEventStream",
    "PullDynamicScheduleUpdate",
    "ReportDERControl",
    "VatNumberValidation",
)
CS_INITIATED = {"v201": _CS_V201, "v21": _CS_V201 + _CS_V21_EXTRA}
BOTH_WAYS = ("DataTransfer",)

# Keywords that carry no validation meaning for us (annotations) or none in Draft 6/7
# in the way OCA uses them ("additionalProperties" on a string enum, "additionalItems"
# next to a single-schema "items").
_IGNORED = ("description", "javaType", "$id", "comment", "$schema", "default", "definitions")

# The OCA CustomDataType: referenced from nearly every object, so tables name it with
# the token "c" (core/schema.py holds the one copy) instead of repeating it.
_CUSTOM_DATA = {
    "type": "object",
    "properties": {"vendorId": {"type": "string", "maxLength": 255}},
    "required": ["vendorId"],
}


class SchemaError(Exception):
    pass


def _num(x):
    # 0.0 and 0 compare the same; ints keep the frozen constant small.
    if isinstance(x, float) and x == int(x):
        return int(x)
    return x


def _strip(node):
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in _IGNORED}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _is_custom_data(d):
    return _strip(d) == _CUSTOM_DATA


def convert(node, defs, where, stack=()):
    """JSON-schema node -> compact table (see core/schema.py)."""
    if "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/definitions/"):
            raise SchemaError("%s: unsupported $ref %r" % (where, ref))
        name = ref[len("#/definitions/"):]
        if name in stack:
            raise SchemaError("%s: recursive $ref %r" % (where, ref))
        d = defs[name]
        if name == "CustomDataType" and _is_custom_data(d):
            return "c"
        # Draft 6/7: keywords beside $ref are ignored.
        return convert(d, defs, where, stack + (name,))
    keys = set(k for k in node if k not in _IGNORED)
    t = node.get("type")

    def allow(*ok):
        extra = keys - set(("type",) + ok)
        if extra:
            raise SchemaError("%s: unsupported keyword(s) %s for type %r" % (where, sorted(extra), t))

    if not keys:
        return ("*",)  # e.g. DataTransfer.data: any JSON value
    if t == "object":
        allow("properties", "required", "additionalProperties")
        ap = node.get("additionalProperties", True)
        if ap not in (True, False):
            raise SchemaError("%s: additionalProperties must be a boolean" % where)
        props = node.get("properties", {})
        required = tuple(node.get("required", ()))
        out = []
        for name, sub in props.items():  # schema order: it is the validator's check order
            out.append((name, convert(sub, defs, where + "." + name, stack)))
        return ("o", required, tuple(out), ap)
    if t == "array":
        allow("items", "minItems", "maxItems", "additionalItems")
        items = node.get("items", {})
        if not isinstance(items, dict) or not items:
            raise SchemaError("%s: only a single-schema 'items' is supported" % where)
        return ("a", convert(items, defs, where + "[]", stack), node.get("minItems"), node.get("maxItems"))
    if t == "string":
        if "enum" in node:
            allow("enum", "additionalProperties")
            return ("e", tuple(node["enum"]))
        if "format" in node:
            allow("format")
            if node["format"] != "date-time":
                raise SchemaError("%s: unsupported format %r" % (where, node["format"]))
            return ("d",)
        allow("maxLength")
        if "maxLength" in node:
            return ("s", node["maxLength"])
        return ("s",)
    if t in ("integer", "number"):
        allow("minimum", "maximum")
        code = "i" if t == "integer" else "n"
        if "minimum" in node or "maximum" in node:
            return (code, _num(node.get("minimum")), _num(node.get("maximum")))
        return (code,)  # unbounded
    if t == "boolean":
        allow()
        return ("b",)
    raise SchemaError("%s: unsupported type %r" % (where, t))


def schema_dir(version):
    import ocpp

    d = os.path.join(os.path.dirname(ocpp.__file__), version, "schemas")
    if not os.path.isdir(d):
        raise SchemaError("no schemas for %r in the ocpp package (%s)" % (version, d))
    return d


def plan(version):
    """-> (csms_to_cs, cs_to_csms, [(message_name, json_path), ...]) for the tables to emit."""
    if version not in CS_INITIATED:
        raise SchemaError("unknown version %r (known: %s)" % (version, ", ".join(sorted(CS_INITIATED))))
    src = schema_dir(version)
    files = sorted(f[:-5] for f in os.listdir(src) if f.endswith(".json"))
    actions = set()
    for f in files:
        for suffix in ("Request", "Response"):
            if f.endswith(suffix):
                actions.add(f[: -len(suffix)])
                break
        else:
            actions.add(f)  # a 2.1 SEND message (no Request/Response suffix)
    cs_set = CS_INITIATED[version]
    unknown = [a for a in cs_set if a not in actions]
    if unknown:
        raise SchemaError("station-initiated actions without a schema: %s" % ", ".join(unknown))
    cs_to_csms = tuple(sorted(a for a in actions if a in cs_set))
    csms_to_cs = tuple(sorted(a for a in actions if a not in cs_set or a in BOTH_WAYS))
    wanted = [a + "Request" for a in csms_to_cs] + [a + "Response" for a in cs_to_csms]
    present = set(files)
    tables = [(m, os.path.join(src, m + ".json")) for m in sorted(wanted) if m in present]
    return csms_to_cs, cs_to_csms, tables


_HEADER = "# Generated by tools/gen_schemas.py from ocpp/%s/schemas/%s.json -- do not edit.\n"


def render_table(version, name, path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    spec = convert(doc, doc.get("definitions", {}), name)
    body = pprint.pformat(spec, width=100, compact=True)
    return _HEADER % (version, name) + "S = " + body.replace("\n", "\n    ") + "\n"


def render_actions(version, csms_to_cs, cs_to_csms):
    def tup(names):
        return "(\n" + "".join("    %r,\n" % n for n in names) + ")\n"

    return (
        "# Generated by tools/gen_schemas.py from ocpp/%s/schemas -- do not edit.\n"
        "# Actions whose CALL the CSMS sends to the Charging Station.\n"
        "CSMS_TO_CS = " % version
        + tup(csms_to_cs)
        + "# Actions whose CALL the Charging Station sends to the CSMS.\n"
        "CS_TO_CSMS = " + tup(cs_to_csms)
    )


_PKG_INIT = "# Generated by tools/gen_schemas.py: one module per message, each holding a table `S`.\n"


def generate(version):
    """-> {relative path: text} of everything the generator owns for `version`."""
    csms_to_cs, cs_to_csms, tables = plan(version)
    out = {"actions.py": render_actions(version, csms_to_cs, cs_to_csms), "schemas/__init__.py": _PKG_INIT}
    for name, path in tables:
        out["schemas/" + name + ".py"] = render_table(version, name, path)
    return out


def default_out(version):
    return os.path.join(ROOT, "firmware", "flexcharge", "core", version)


def write(version, out_dir):
    files = generate(version)
    sdir = os.path.join(out_dir, "schemas")
    os.makedirs(sdir, exist_ok=True)
    # Drop tables that are no longer generated (only .py files in schemas/ are ours).
    for f in sorted(os.listdir(sdir)):
        if f.endswith(".py") and "schemas/" + f not in files:
            os.remove(os.path.join(sdir, f))
    for rel in sorted(files):
        p = os.path.join(out_dir, rel)
        with open(p, "w", encoding="utf-8", newline="\n") as f:
            f.write(files[rel])
    return files


def main(argv):
    args = list(argv)
    out = None
    if "--out" in args:
        i = args.index("--out")
        out = args[i + 1]
        del args[i : i + 2]
    if len(args) != 1:
        print(__doc__.strip().split("\n\n")[0], file=sys.stderr)
        return 2
    version = args[0]
    try:
        files = write(version, out or default_out(version))
    except SchemaError as e:
        print("gen_schemas: " + str(e), file=sys.stderr)
        return 1
    size = sum(len(t.encode()) for r, t in files.items() if r.startswith("schemas/") and not r.endswith("__init__.py"))
    print("%s: %d tables, %d bytes of source" % (version, len(files) - 2, size))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
