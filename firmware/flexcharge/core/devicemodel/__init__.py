# OCPP 2.0.1 device model (Part 1 §4, Part 2 appendices). See model.py for the table
# format and the value store, standard.py for the generated standard tables.
#   from flexcharge.core.devicemodel import DeviceModel, DeviceModelError
from flexcharge.core.devicemodel.model import DeviceModel, DeviceModelError  # noqa: F401
