# Device drivers under the HAL: energy meters (Modbus RTU), RFID readers.
