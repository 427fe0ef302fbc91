"""The line side: the station as a Modbus TCP server a PLC triggers and reads (`[plc]`).

Needs the `plc` extra (pymodbus). `register_map` is the contract with the PLC;
`PlcLink` is what the inspection loop talks to.
"""

from station.outputs.plc.config import PlcConfig, plc_config

__all__ = ["PlcConfig", "plc_config"]
