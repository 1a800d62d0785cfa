# Eastron SDM630 (and register-compatible SDM72D-M / SDM630MCT) energy meter over
# Modbus RTU. Input registers (function 04), each value an IEEE754 float in two
# registers, high word first. Default link: 9600 baud 8N1, unit 1.
from flexcharge.hal import Meter
from flexcharge.hal.drivers.modbus_rtu import ModbusError

# Register map (start address, floats): what read() fetches, three requests per cycle.
PHASE_BLOCK = 0x0000  # V L1..L3 (0x00,02,04), I L1..L3 (0x06,08,0A), P L1..L3 (0x0C,0E,10)
TOTAL_POWER = 0x0034  # total system power, W
ENERGY_BLOCK = 0x0046  # frequency Hz (0x46), import kWh (0x48), export kWh (0x4A)


class SDM630:
    def __init__(self, bus, unit=1, phases=3):
        self.bus = bus
        self.unit = unit
        self.phases = phases

    async def read(self):
        b = self.bus
        u = self.unit
        ph = await b.read_floats(u, PHASE_BLOCK, 9)
        (total,) = await b.read_floats(u, TOTAL_POWER, 1)
        hz, imp, exp = await b.read_floats(u, ENERGY_BLOCK, 3)
        n = self.phases
        return {
            # The meter's registers are float32 kWh; ours are int mWh (hal.Meter).
            "energy_mwh": int(imp * 1000000 + 0.5),
            "export_mwh": int(exp * 1000000 + 0.5),
            "power_w": total,
            "voltage_v": tuple(ph[0:n]),
            "current_a": tuple(ph[3:3 + n]),
            "power_phase_w": tuple(ph[6:6 + n]),
            "frequency_hz": hz,
        }


class SDM630Meter(Meter):
    """hal.Meter over an SDM630: poll() runs in the board's loop, read() returns the last
    good values at once ('stale': True until the first read and after failed polls)."""

    def __init__(self, sdm):
        self.sdm = sdm
        self.errors = 0
        self.last_error = None
        n = sdm.phases
        self._v = {
            "energy_mwh": 0,
            "export_mwh": 0,
            "power_w": 0.0,
            "voltage_v": (0.0,) * n,
            "current_a": (0.0,) * n,
            "power_phase_w": (0.0,) * n,
            "frequency_hz": 0.0,
            "stale": True,
        }

    async def poll(self):
        try:
            v = await self.sdm.read()
        except ModbusError as e:
            self.errors += 1
            self.last_error = e
            self._v["stale"] = True
            return False
        v["stale"] = False
        self._v = v
        return True

    def read(self):
        return self._v
